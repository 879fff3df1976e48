//! Reading a PostgreSQL array column as `Value::Array`, by the kind of its elements.
//!
//! sea-orm decodes an array field strictly (`Vec<i32>` wants `Value::Array(ArrayType::Int,
//! …)` of `Value::Int`s), so a forwarded `RETURNING` row must carry the array with the
//! element type the entity declares. sea-orm reads arrays of the types it has a PostgreSQL
//! decoder for; an unsigned or `char` element kind has none, and is refused with
//! `DbErr::Type`. A NULL element fails sqlx's decoding into `Vec<T>`, as it does locally.

use sea_orm::sea_query::ArrayType;
use sea_orm::{DbErr, QueryResult, TryGetable, Value};

use crate::row::ValueKind;
use crate::value::ArrayElement;

impl ValueKind {
    /// Reads column `idx` of a PostgreSQL row as an array of this kind's values, with
    /// sea-orm's decoder for `Vec<T>`.
    pub fn read_array(self, row: &QueryResult, idx: usize) -> Result<Value, DbErr> {
        fn array<T>(row: &QueryResult, idx: usize, ty: ArrayType) -> Result<Value, DbErr>
        where
            Vec<T>: TryGetable,
            T: Into<Value>,
        {
            let values = row.try_get_by_index::<Option<Vec<T>>>(idx)?;
            Ok(Value::Array(
                ty,
                values.map(|v| Box::new(v.into_iter().map(Into::into).collect())),
            ))
        }
        let ty = ArrayElement::Kind(self).array_type();
        match self {
            Self::Bool => array::<bool>(row, idx, ty),
            Self::TinyInt => array::<i8>(row, idx, ty),
            Self::SmallInt => array::<i16>(row, idx, ty),
            Self::Int => array::<i32>(row, idx, ty),
            Self::BigInt => array::<i64>(row, idx, ty),
            Self::Float => array::<f32>(row, idx, ty),
            Self::Double => array::<f64>(row, idx, ty),
            Self::String => array::<String>(row, idx, ty),
            Self::Bytes => array::<Vec<u8>>(row, idx, ty),
            Self::Json => array::<serde_json::Value>(row, idx, ty),
            Self::ChronoDate => array::<chrono::NaiveDate>(row, idx, ty),
            Self::ChronoTime => array::<chrono::NaiveTime>(row, idx, ty),
            Self::ChronoDateTime => array::<chrono::NaiveDateTime>(row, idx, ty),
            Self::ChronoDateTimeUtc => array::<chrono::DateTime<chrono::Utc>>(row, idx, ty),
            Self::ChronoDateTimeLocal => array::<chrono::DateTime<chrono::Local>>(row, idx, ty),
            Self::ChronoDateTimeWithTimeZone => {
                array::<chrono::DateTime<chrono::FixedOffset>>(row, idx, ty)
            }
            Self::TimeDate => array::<time::Date>(row, idx, ty),
            Self::TimeTime => array::<time::Time>(row, idx, ty),
            Self::TimeDateTime => array::<time::PrimitiveDateTime>(row, idx, ty),
            Self::TimeDateTimeWithTimeZone => array::<time::OffsetDateTime>(row, idx, ty),
            Self::Uuid => array::<uuid::Uuid>(row, idx, ty),
            Self::Decimal => array::<rust_decimal::Decimal>(row, idx, ty),
            Self::TinyUnsigned
            | Self::SmallUnsigned
            | Self::Unsigned
            | Self::BigUnsigned
            | Self::Char => Err(DbErr::Type(format!(
                "sea-orm reads no PostgreSQL array of {self:?} values"
            ))),
        }
    }
}
