//! Rows as data: reading typed values out of SQLite rows and rebuilding sea-orm results.
//!
//! sea-orm decodes a model strictly by `Value` variant (an `i32` field rejects a
//! `Value::BigInt`), but SQLite only stores integers, reals, text and blobs. A [`RowShape`]
//! says which variant each column of an entity needs; the node that runs the statement
//! decodes each column with sea-orm's own decoder for that type, so a forwarded row becomes
//! the same `Model` a local read would.

use std::collections::HashMap;

use sea_orm::sqlx::sqlite::SqliteRow;
use sea_orm::sqlx::{Row as _, TypeInfo as _, ValueRef as _};
use sea_orm::{
    DatabaseConnection, DbBackend, DbErr, ExecResult, MockDatabase, MockExecResult, QueryResult,
    Statement, TryGetable, Value,
};

use crate::response::ExecSummary;

/// One returned row: column names and typed values, in the statement's column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Column names, as the statement returned them.
    pub columns: Vec<String>,
    /// One value per column.
    pub values: Vec<Value>,
}

/// The value type each column of an entity needs, by column name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowShape {
    /// Scalar columns: the `Value` variant each is read as.
    kinds: HashMap<String, ValueKind>,
    /// PostgreSQL array columns: the kind of their elements (read as `Value::Array`).
    arrays: HashMap<String, ValueKind>,
}

impl RowShape {
    /// A shape from `(column, kind)` pairs.
    pub fn new(columns: impl IntoIterator<Item = (String, ValueKind)>) -> Self {
        Self {
            kinds: columns.into_iter().collect(),
            arrays: HashMap::new(),
        }
    }

    /// This shape with `(column, element kind)` pairs of PostgreSQL array columns added.
    pub fn with_arrays(mut self, columns: impl IntoIterator<Item = (String, ValueKind)>) -> Self {
        for (column, kind) in columns {
            self.kinds.remove(&column);
            self.arrays.insert(column, kind);
        }
        self
    }

    /// The element kind of array column `column`, if the shape knows it as an array.
    pub fn array_kind(&self, column: &str) -> Option<ValueKind> {
        self.arrays.get(column).copied()
    }

    /// Every `(column, element kind)` pair of an array column, in no particular order.
    pub fn array_columns(&self) -> impl Iterator<Item = (&str, ValueKind)> {
        self.arrays.iter().map(|(c, k)| (c.as_str(), *k))
    }

    /// The kind of `column`, if the shape knows it.
    pub fn kind(&self, column: &str) -> Option<ValueKind> {
        self.kinds.get(column).copied()
    }

    /// Every `(column, kind)` pair of a scalar column, in no particular order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, ValueKind)> {
        self.kinds.iter().map(|(c, k)| (c.as_str(), *k))
    }
}

/// The type of a column's value: one per [`Value`] variant that SQLite can store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[allow(missing_docs)] // each variant is named after the `Value` variant it produces
pub enum ValueKind {
    Bool,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    TinyUnsigned,
    SmallUnsigned,
    Unsigned,
    BigUnsigned,
    Float,
    Double,
    String,
    Char,
    Bytes,
    Json,
    ChronoDate,
    ChronoTime,
    ChronoDateTime,
    ChronoDateTimeUtc,
    ChronoDateTimeLocal,
    ChronoDateTimeWithTimeZone,
    TimeDate,
    TimeTime,
    TimeDateTime,
    TimeDateTimeWithTimeZone,
    Uuid,
    Decimal,
}

impl ValueKind {
    /// Every kind, in the order used to probe an entity's fields.
    pub const ALL: [ValueKind; 27] = [
        Self::Bool,
        Self::TinyInt,
        Self::SmallInt,
        Self::Int,
        Self::BigInt,
        Self::TinyUnsigned,
        Self::SmallUnsigned,
        Self::Unsigned,
        Self::BigUnsigned,
        Self::Float,
        Self::Double,
        Self::String,
        Self::Char,
        Self::Bytes,
        Self::Json,
        Self::ChronoDate,
        Self::ChronoTime,
        Self::ChronoDateTime,
        Self::ChronoDateTimeUtc,
        Self::ChronoDateTimeLocal,
        Self::ChronoDateTimeWithTimeZone,
        Self::TimeDate,
        Self::TimeTime,
        Self::TimeDateTime,
        Self::TimeDateTimeWithTimeZone,
        Self::Uuid,
        Self::Decimal,
    ];

    /// Reads column `idx` of a row as this kind, with sea-orm's decoder for the type.
    pub fn read(self, row: &QueryResult, idx: usize) -> Result<Value, DbErr> {
        fn get<T: TryGetable>(row: &QueryResult, idx: usize) -> Result<Option<T>, DbErr> {
            row.try_get_by_index::<Option<T>>(idx)
        }
        fn narrow<T: TryFrom<i64>>(row: &QueryResult, idx: usize) -> Result<Option<T>, DbErr> {
            get::<i64>(row, idx)?
                .map(|v| T::try_from(v).map_err(|_| DbErr::Type(format!("{v} out of range"))))
                .transpose()
        }
        Ok(match self {
            Self::Bool => Value::Bool(get(row, idx)?),
            Self::TinyInt => Value::TinyInt(get(row, idx)?),
            Self::SmallInt => Value::SmallInt(get(row, idx)?),
            Self::Int => Value::Int(get(row, idx)?),
            Self::BigInt => Value::BigInt(get(row, idx)?),
            Self::TinyUnsigned => Value::TinyUnsigned(narrow(row, idx)?),
            Self::SmallUnsigned => Value::SmallUnsigned(narrow(row, idx)?),
            Self::Unsigned => Value::Unsigned(narrow(row, idx)?),
            Self::BigUnsigned => Value::BigUnsigned(narrow(row, idx)?),
            Self::Float => Value::Float(get(row, idx)?),
            Self::Double => Value::Double(get(row, idx)?),
            Self::String => Value::String(get(row, idx)?),
            Self::Char => Value::Char(get::<String>(row, idx)?.and_then(|s| s.chars().next())),
            Self::Bytes => Value::Bytes(get(row, idx)?),
            Self::Json => Value::Json(get::<serde_json::Value>(row, idx)?.map(Box::new)),
            Self::ChronoDate => Value::ChronoDate(get(row, idx)?),
            Self::ChronoTime => Value::ChronoTime(get(row, idx)?),
            Self::ChronoDateTime => Value::ChronoDateTime(get(row, idx)?),
            Self::ChronoDateTimeUtc => Value::ChronoDateTimeUtc(get(row, idx)?),
            Self::ChronoDateTimeLocal => Value::ChronoDateTimeLocal(get(row, idx)?),
            Self::ChronoDateTimeWithTimeZone => Value::ChronoDateTimeWithTimeZone(get(row, idx)?),
            Self::TimeDate => Value::TimeDate(get(row, idx)?),
            Self::TimeTime => Value::TimeTime(get(row, idx)?),
            Self::TimeDateTime => Value::TimeDateTime(get(row, idx)?),
            Self::TimeDateTimeWithTimeZone => Value::TimeDateTimeWithTimeZone(get(row, idx)?),
            Self::Uuid => Value::Uuid(get(row, idx)?),
            Self::Decimal => Value::Decimal(get(row, idx)?),
        })
    }
}

impl Row {
    /// Reads a row returned by SQLite, typing each column by `shape` where it knows the
    /// column (an array column as `Value::Array`, on PostgreSQL) and by SQLite's storage
    /// class otherwise (integer → `BigInt`, real → `Double`, text → `String`, blob →
    /// `Bytes`, NULL → `String(None)`); from PostgreSQL (feature `postgres`), by the
    /// column's declared type where the shape does not know it.
    pub fn read(result: &QueryResult, shape: Option<&RowShape>) -> Result<Self, DbErr> {
        let columns = result.column_names();
        let mut values = Vec::with_capacity(columns.len());
        for (idx, name) in columns.iter().enumerate() {
            let value = match shape.map(|s| (s.kind(name), s.array_kind(name))) {
                Some((_, Some(element))) => element.read_array(result, idx)?,
                Some((Some(kind), None)) => kind.read(result, idx)?,
                Some((None, None)) | None => storage_value(result, idx)?,
            };
            values.push(value);
        }
        Ok(Self { columns, values })
    }
}

/// A column's value typed by SQLite's storage class (or, from PostgreSQL, by the column's
/// declared type).
fn storage_value(result: &QueryResult, idx: usize) -> Result<Value, DbErr> {
    #[cfg(feature = "postgres")]
    if let Some(row) = result.try_as_pg_row() {
        return super::postgres_row::declared_value(row, idx);
    }
    let Some(row) = result.try_as_sqlite_row() else {
        return Err(DbErr::Type(
            "a row without a shape must come from SQLite or PostgreSQL: register the \
             entity with `RepoBuilder::entity`, or write through the typed API"
                .into(),
        ));
    };
    let class = storage_class(row, idx)?;
    Ok(match class.as_str() {
        "INTEGER" => Value::BigInt(row_get(row, idx)?),
        "REAL" => Value::Double(row_get(row, idx)?),
        "BLOB" => Value::Bytes(row_get(row, idx)?),
        "NULL" => Value::String(None),
        _ => Value::String(row_get(row, idx)?),
    })
}

fn storage_class(row: &SqliteRow, idx: usize) -> Result<String, DbErr> {
    let raw = row
        .try_get_raw(idx)
        .map_err(|e| DbErr::Type(e.to_string()))?;
    if raw.is_null() {
        return Ok("NULL".into());
    }
    Ok(raw.type_info().name().to_owned())
}

fn row_get<T>(row: &SqliteRow, idx: usize) -> Result<Option<T>, DbErr>
where
    T: for<'r> sea_orm::sqlx::Decode<'r, sea_orm::sqlx::Sqlite>
        + sea_orm::sqlx::Type<sea_orm::sqlx::Sqlite>,
{
    row.try_get_unchecked::<Option<T>, _>(idx)
        .map_err(|e| DbErr::Type(e.to_string()))
}

/// Rebuilds sea-orm `QueryResult`s from rows (through a `MockDatabase`: the only public way
/// to construct them from values).
pub(crate) async fn into_query_results(rows: Vec<Row>) -> Result<Vec<QueryResult>, DbErr> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let maps: Vec<std::collections::BTreeMap<String, Value>> = rows
        .into_iter()
        .map(|row| row.columns.into_iter().zip(row.values).collect())
        .collect();
    let db: DatabaseConnection = MockDatabase::new(DbBackend::Sqlite)
        .append_query_results([maps])
        .into_connection();
    use sea_orm::ConnectionTrait;
    db.query_all_raw(Statement::from_string(DbBackend::Sqlite, ""))
        .await
}

/// Rebuilds a sea-orm `ExecResult` from its data.
pub(crate) async fn into_exec_result(summary: ExecSummary) -> Result<ExecResult, DbErr> {
    let db: DatabaseConnection = MockDatabase::new(DbBackend::Sqlite)
        .append_exec_results([MockExecResult {
            last_insert_id: summary.last_insert_id,
            rows_affected: summary.rows_affected,
        }])
        .into_connection();
    use sea_orm::ConnectionTrait;
    db.execute_raw(Statement::from_string(DbBackend::Sqlite, ""))
        .await
}
