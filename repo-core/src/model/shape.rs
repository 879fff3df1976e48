//! Working out an entity's [`RowShape`] from its model, once per entity type.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use sea_orm::sea_query::ColumnType;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IdenStatic, Iterable, Value};

use crate::row::{RowShape, ValueKind};
use crate::value::ArrayElement;

/// The shape of `E`'s rows: for each column, the `Value` variant its model field accepts.
///
/// Each field is probed with a sample value of every kind (`ActiveModel::try_set` rejects
/// a wrong variant); a field that accepts none (an `ActiveEnum`, say) falls back to its
/// declared column type. A PostgreSQL array column is probed with a one-element array of
/// each kind. The result is cached per entity type.
pub fn shape_of<E: EntityTrait>() -> Arc<RowShape> {
    static CACHE: OnceLock<RwLock<HashMap<TypeId, Arc<RowShape>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = TypeId::of::<E>();
    if let Some(shape) = cache.read().ok().and_then(|c| c.get(&key).cloned()) {
        return shape;
    }
    let (mut scalars, mut arrays) = (Vec::new(), Vec::new());
    for col in E::Column::iter() {
        let name = col.as_str().to_owned();
        match probe_array::<E>(col) {
            Some(element) => arrays.push((name, element)),
            None => scalars.push((name, probe::<E>(col))),
        }
    }
    let shape = Arc::new(RowShape::new(scalars).with_arrays(arrays));
    if let Ok(mut c) = cache.write() {
        c.insert(key, shape.clone());
    }
    shape
}

/// The table name of `E`, as SQL names it.
pub(crate) fn table_of<E: EntityTrait>() -> String {
    E::default().table_name().to_owned()
}

fn probe<E: EntityTrait>(col: E::Column) -> ValueKind {
    let declared = declared_kind(col.def().get_column_type());
    let candidates = std::iter::once(declared).chain(ValueKind::ALL);
    for kind in candidates {
        let mut am = <E::ActiveModel as ActiveModelTrait>::default();
        if am.try_set(col, sample(kind)).is_ok() {
            return kind;
        }
    }
    declared
}

/// The element kind of an array column (`ColumnType::Array`) whose field accepts a
/// `Value::Array` of it; `None` for any other column (and an enum array, read as text).
fn probe_array<E: EntityTrait>(col: E::Column) -> Option<ValueKind> {
    let def = col.def();
    let ColumnType::Array(inner) = def.get_column_type() else {
        return None;
    };
    let candidates = std::iter::once(declared_kind(inner)).chain(ValueKind::ALL);
    for kind in candidates {
        let ty = ArrayElement::Kind(kind).array_type();
        let mut am = <E::ActiveModel as ActiveModelTrait>::default();
        if am
            .try_set(col, Value::Array(ty, Some(Box::new(vec![sample(kind)]))))
            .is_ok()
        {
            return Some(kind);
        }
    }
    None
}

fn declared_kind(ty: &ColumnType) -> ValueKind {
    match ty {
        ColumnType::Boolean => ValueKind::Bool,
        ColumnType::TinyInteger => ValueKind::TinyInt,
        ColumnType::SmallInteger => ValueKind::SmallInt,
        ColumnType::Integer => ValueKind::Int,
        ColumnType::BigInteger => ValueKind::BigInt,
        ColumnType::TinyUnsigned => ValueKind::TinyUnsigned,
        ColumnType::SmallUnsigned => ValueKind::SmallUnsigned,
        ColumnType::Unsigned => ValueKind::Unsigned,
        ColumnType::BigUnsigned => ValueKind::BigUnsigned,
        ColumnType::Float => ValueKind::Float,
        ColumnType::Double => ValueKind::Double,
        ColumnType::Decimal(_) | ColumnType::Money(_) => ValueKind::Decimal,
        ColumnType::Binary(_) | ColumnType::VarBinary(_) | ColumnType::Blob => ValueKind::Bytes,
        ColumnType::Json | ColumnType::JsonBinary => ValueKind::Json,
        ColumnType::Date => ValueKind::ChronoDate,
        ColumnType::Time => ValueKind::ChronoTime,
        ColumnType::DateTime | ColumnType::Timestamp => ValueKind::ChronoDateTime,
        ColumnType::TimestampWithTimeZone => ValueKind::ChronoDateTimeUtc,
        ColumnType::Uuid => ValueKind::Uuid,
        _ => ValueKind::String,
    }
}

/// A non-null sample of each kind, to probe which one a model field accepts.
fn sample(kind: ValueKind) -> Value {
    use chrono::{NaiveDate, TimeZone, Utc};
    let date = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let at = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    match kind {
        ValueKind::Bool => Value::Bool(Some(false)),
        ValueKind::TinyInt => Value::TinyInt(Some(0)),
        ValueKind::SmallInt => Value::SmallInt(Some(0)),
        ValueKind::Int => Value::Int(Some(0)),
        ValueKind::BigInt => Value::BigInt(Some(0)),
        ValueKind::TinyUnsigned => Value::TinyUnsigned(Some(0)),
        ValueKind::SmallUnsigned => Value::SmallUnsigned(Some(0)),
        ValueKind::Unsigned => Value::Unsigned(Some(0)),
        ValueKind::BigUnsigned => Value::BigUnsigned(Some(0)),
        ValueKind::Float => Value::Float(Some(0.0)),
        ValueKind::Double => Value::Double(Some(0.0)),
        ValueKind::String => Value::String(Some(String::new())),
        ValueKind::Char => Value::Char(Some(' ')),
        ValueKind::Bytes => Value::Bytes(Some(Vec::new())),
        ValueKind::Json => Value::Json(Some(Box::new(serde_json::Value::Null))),
        ValueKind::ChronoDate => Value::ChronoDate(Some(date)),
        ValueKind::ChronoTime => Value::ChronoTime(Some(chrono::NaiveTime::MIN)),
        ValueKind::ChronoDateTime => Value::ChronoDateTime(Some(at.naive_utc())),
        ValueKind::ChronoDateTimeUtc => Value::ChronoDateTimeUtc(Some(at)),
        ValueKind::ChronoDateTimeLocal => {
            Value::ChronoDateTimeLocal(Some(at.with_timezone(&chrono::Local)))
        }
        ValueKind::ChronoDateTimeWithTimeZone => {
            Value::ChronoDateTimeWithTimeZone(Some(at.fixed_offset()))
        }
        ValueKind::TimeDate => Value::TimeDate(Some(time::Date::MIN)),
        ValueKind::TimeTime => Value::TimeTime(Some(time::Time::MIDNIGHT)),
        ValueKind::TimeDateTime => Value::TimeDateTime(Some(time::PrimitiveDateTime::MIN)),
        ValueKind::TimeDateTimeWithTimeZone => {
            Value::TimeDateTimeWithTimeZone(Some(time::OffsetDateTime::UNIX_EPOCH))
        }
        ValueKind::Uuid => Value::Uuid(Some(uuid::Uuid::nil())),
        ValueKind::Decimal => Value::Decimal(Some(rust_decimal::Decimal::ZERO)),
    }
}
