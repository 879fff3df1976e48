//! Rows PostgreSQL returns without an entity's shape (a `count()`, an aggregate, a raw
//! query): each column typed by the type PostgreSQL declares for it, as sea-orm reads it
//! locally.

use sea_orm::sqlx::postgres::{PgRow, PgTypeKind};
use sea_orm::sqlx::{Column as _, Decode, Postgres, Row as _, Type, TypeInfo as _};
use sea_orm::{DbErr, Value};

/// Column `idx` of `row` as the [`Value`] its declared type maps to: `int2`/`int4`/`int8`
/// → `SmallInt`/`Int`/`BigInt`, `float4`/`float8` → `Float`/`Double`, `bool`, text types
/// and enums → `String`, `bytea` → `Bytes`, `json`/`jsonb` → `Json`, `uuid`, `numeric` →
/// `Decimal`, `date`/`time`/`timestamp` → chrono's, `timestamptz` → a date-time with its
/// offset (sea-orm's `DateTimeWithTimeZone`). Any other type is refused with an error
/// naming the column and its type: such a column crosses the wire through its entity's
/// shape only.
pub(super) fn declared_value(row: &PgRow, idx: usize) -> Result<Value, DbErr> {
    let column = row
        .columns()
        .get(idx)
        .ok_or_else(|| DbErr::Type(format!("no column {idx} in the row")))?;
    let ty = column.type_info();
    Ok(match ty.name() {
        "BOOL" => Value::Bool(get(row, idx)?),
        "INT2" => Value::SmallInt(get(row, idx)?),
        "INT4" => Value::Int(get(row, idx)?),
        "INT8" => Value::BigInt(get(row, idx)?),
        "FLOAT4" => Value::Float(get(row, idx)?),
        "FLOAT8" => Value::Double(get(row, idx)?),
        "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" => Value::String(get(row, idx)?),
        "BYTEA" => Value::Bytes(get(row, idx)?),
        "JSON" | "JSONB" => Value::Json(get::<serde_json::Value>(row, idx)?.map(Box::new)),
        "UUID" => Value::Uuid(get(row, idx)?),
        "NUMERIC" => Value::Decimal(get(row, idx)?),
        "DATE" => Value::ChronoDate(get(row, idx)?),
        "TIME" => Value::ChronoTime(get(row, idx)?),
        "TIMESTAMP" => Value::ChronoDateTime(get(row, idx)?),
        "TIMESTAMPTZ" => Value::ChronoDateTimeWithTimeZone(get(row, idx)?),
        // An enum's value is its label, as text on the wire.
        _ if matches!(ty.kind(), PgTypeKind::Enum(_)) => Value::String(
            row.try_get_unchecked::<Option<String>, _>(idx)
                .map_err(|e| DbErr::Type(e.to_string()))?,
        ),
        other => {
            return Err(DbErr::Type(format!(
                "column `{}` has PostgreSQL type {other}, which crosses the wire only through \
                 its entity's shape: read it with the entity registered (RepoBuilder::entity)",
                column.name()
            )));
        }
    })
}

fn get<T>(row: &PgRow, idx: usize) -> Result<Option<T>, DbErr>
where
    T: for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get::<Option<T>, _>(idx)
        .map_err(|e| DbErr::Type(e.to_string()))
}
