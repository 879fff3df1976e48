//! `arrays`: a table with one PostgreSQL array column per element type of sea-query's
//! `ArrayType` that PostgreSQL stores, the statement that fills a row of it, and the row as
//! PostgreSQL prints it, for the arrays test.

use sea_orm::prelude::{Decimal, Uuid};
use sea_orm::sea_query::{ArrayType, OptionEnum};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Which array a row holds in every column.
#[derive(Clone, Copy, Debug)]
pub enum Fill {
    /// Two elements or so.
    Full,
    /// No element.
    Empty,
    /// A NULL array.
    Null,
}

/// An array of `ty` holding `items`, or none, or NULL, as `fill` says.
pub fn array(ty: ArrayType, fill: Fill, items: Vec<Value>) -> Value {
    Value::Array(
        ty,
        match fill {
            Fill::Full => Some(Box::new(items)),
            Fill::Empty => Some(Box::default()),
            Fill::Null => None,
        },
    )
}

/// Builds a column's array.
pub type Build = fn(Fill) -> Value;

/// An instant with an offset, for the chrono columns.
pub fn at() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-30T04:05:06.789012+02:00").expect("instant")
}

/// An instant, for the `time` columns.
pub fn moment() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(1_764_468_306_789_012_000).expect("instant")
}

/// One column per element type: its name, PostgreSQL type, the cast its placeholder needs,
/// and the array it is given.
pub const COLUMNS: &[(&str, &str, &str, Build)] = &[
    ("bools", "boolean[]", "", |f| {
        array(ArrayType::Bool, f, vec![true.into(), false.into()])
    }),
    ("tiny", "\"char\"[]", "", |f| {
        array(ArrayType::TinyInt, f, vec![1_i8.into(), (-2_i8).into()])
    }),
    ("small", "smallint[]", "", |f| {
        array(ArrayType::SmallInt, f, vec![i16::MIN.into(), 7_i16.into()])
    }),
    ("ints", "integer[]", "", |f| {
        array(ArrayType::Int, f, vec![1_i32.into(), i32::MAX.into()])
    }),
    ("bigs", "bigint[]", "", |f| {
        array(ArrayType::BigInt, f, vec![i64::MIN.into(), 0_i64.into()])
    }),
    ("small_u", "integer[]", "", |f| {
        array(ArrayType::SmallUnsigned, f, vec![u16::MAX.into()])
    }),
    ("unsigned", "bigint[]", "", |f| {
        array(ArrayType::Unsigned, f, vec![u32::MAX.into()])
    }),
    ("big_u", "bigint[]", "", |f| {
        array(ArrayType::BigUnsigned, f, vec![(i64::MAX as u64).into()])
    }),
    ("reals", "real[]", "", |f| {
        array(
            ArrayType::Float,
            f,
            vec![0.1_f32.into(), f32::INFINITY.into()],
        )
    }),
    ("doubles", "double precision[]", "", |f| {
        array(
            ArrayType::Double,
            f,
            vec![0.1_f64.into(), (-0.0_f64).into()],
        )
    }),
    ("texts", "text[]", "", |f| {
        array(
            ArrayType::String,
            f,
            vec!["a,b".into(), "\"q\" ü {}".into()],
        )
    }),
    // `TinyUnsigned` arrays: sea-query's PostgreSQL binder panics on every one; refused
    // before binding (`an_array_sea_query_cannot_bind_is_refused_before_it_is_bound`).
    ("moods", "mood[]", "::mood[]", |f| {
        let m = |v: &str| {
            Value::Enum(OptionEnum::Some(Box::new(sea_orm::sea_query::Enum {
                type_name: "mood".into(),
                value: v.to_owned().into(),
            })))
        };
        array(
            ArrayType::Enum(Box::new("mood".into())),
            f,
            vec![m("happy"), m("sad")],
        )
    }),
    ("chars", "text[]", "", |f| {
        array(ArrayType::Char, f, vec!['x'.into(), 'é'.into()])
    }),
    ("blobs", "bytea[]", "", |f| {
        array(
            ArrayType::Bytes,
            f,
            vec![vec![0_u8, 255].into(), Vec::<u8>::new().into()],
        )
    }),
    ("docs", "jsonb[]", "", |f| {
        let doc = serde_json::json!({"a": [1, 2.5, null], "ü": true});
        array(
            ArrayType::Json,
            f,
            vec![doc.into(), serde_json::json!(null).into()],
        )
    }),
    ("c_dates", "date[]", "", |f| {
        array(ArrayType::ChronoDate, f, vec![at().date_naive().into()])
    }),
    ("c_times", "time[]", "", |f| {
        array(ArrayType::ChronoTime, f, vec![at().time().into()])
    }),
    ("c_stamps", "timestamp[]", "", |f| {
        array(ArrayType::ChronoDateTime, f, vec![at().naive_utc().into()])
    }),
    ("c_utc", "timestamptz[]", "", |f| {
        array(ArrayType::ChronoDateTimeUtc, f, vec![at().to_utc().into()])
    }),
    ("c_local", "timestamptz[]", "", |f| {
        let local = at().with_timezone(&chrono::Local);
        array(ArrayType::ChronoDateTimeLocal, f, vec![local.into()])
    }),
    ("c_zoned", "timestamptz[]", "", |f| {
        array(ArrayType::ChronoDateTimeWithTimeZone, f, vec![at().into()])
    }),
    ("t_dates", "date[]", "", |f| {
        array(ArrayType::TimeDate, f, vec![moment().date().into()])
    }),
    ("t_times", "time[]", "", |f| {
        array(ArrayType::TimeTime, f, vec![moment().time().into()])
    }),
    ("t_stamps", "timestamp[]", "", |f| {
        let t = moment();
        let primitive = time::PrimitiveDateTime::new(t.date(), t.time());
        array(ArrayType::TimeDateTime, f, vec![primitive.into()])
    }),
    ("t_zoned", "timestamptz[]", "", |f| {
        array(
            ArrayType::TimeDateTimeWithTimeZone,
            f,
            vec![moment().into()],
        )
    }),
    ("uuids", "uuid[]", "", |f| {
        let u = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        array(ArrayType::Uuid, f, vec![u.into(), Uuid::nil().into()])
    }),
    ("nums", "numeric[]", "", |f| {
        let d: Decimal = "12345678901234.000000000001".parse().expect("decimal");
        array(ArrayType::Decimal, f, vec![d.into(), Decimal::ZERO.into()])
    }),
];

/// The array builder of column `name`.
pub fn column(name: &str) -> Build {
    COLUMNS
        .iter()
        .find(|c| c.0 == name)
        .map(|c| c.3)
        .expect("a column")
}

/// The table's DDL (it needs `mood`: `mood::DDL[0]`).
pub fn create_table() -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, ty, _, _)| format!("{name} {ty}"))
        .collect();
    format!(
        "CREATE TABLE arrays (label text PRIMARY KEY, {})",
        columns.join(", ")
    )
}

/// Inserts row `label` with every column's array filled as `fill`.
pub fn insert(label: &str, fill: Fill) -> Statement {
    let placeholders: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, _, cast, _))| format!("${}{cast}", i + 2))
        .collect();
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    let sql = format!(
        "INSERT INTO arrays (label, {}) VALUES ($1, {})",
        names.join(", "),
        placeholders.join(", ")
    );
    let values = std::iter::once(Value::from(label)).chain(COLUMNS.iter().map(|c| (c.3)(fill)));
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Every column of the row as PostgreSQL prints it (nothing is lost in reading).
pub async fn read(db: &impl ConnectionTrait, label: &str) -> Vec<String> {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, _, _, _)| format!("coalesce({name}::text, '<null>')"))
        .collect();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {} FROM arrays WHERE label = $1", columns.join(", ")),
            [label.into()],
        ))
        .await
        .expect("read")
        .expect("a row");
    (0..COLUMNS.len())
        .map(|i| row.try_get_by_index::<String>(i).expect("text"))
        .collect()
}
