//! `WireValue` → sea-orm `Value`, every bound checked on the way.

use sea_orm::Value;
use sea_orm::sea_query::{Enum, OptionEnum};

use super::bounds::{self, ValueError, ValueReason};
use super::{WireValue, array};
use crate::error::RepoError;
use crate::row::ValueKind;

/// Applies `f` to a present value, naming `kind` in a refusal.
fn typed<W, T>(
    kind: ValueKind,
    v: Option<W>,
    f: impl FnOnce(W) -> Result<T, ValueReason>,
) -> Result<Option<T>, ValueError> {
    v.map(f)
        .transpose()
        .map_err(|reason| ValueError::new(kind, reason))
}

impl WireValue {
    /// The sea-orm value this stands for, or why it would be unsafe to hold: a value that
    /// passes can be bound by sqlx, encoded again and read back without a panic.
    ///
    /// ```
    /// use repo_core::spi::{ValueKind, WireInstant, WireValue};
    ///
    /// // At chrono's last instant, any positive offset leaves the calendar.
    /// let secs = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    /// let late = WireInstant { secs, nanos: 0 };
    /// let err = WireValue::ChronoDateTimeWithTimeZone(Some((late, 3600)))
    ///     .into_value()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ValueKind::ChronoDateTimeWithTimeZone);
    /// ```
    pub fn into_value(self) -> Result<Value, ValueError> {
        use ValueKind as K;
        use WireValue as W;
        Ok(match self {
            W::Bool(v) => Value::Bool(v),
            W::TinyInt(v) => Value::TinyInt(v),
            W::SmallInt(v) => Value::SmallInt(v),
            W::Int(v) => Value::Int(v),
            W::BigInt(v) => Value::BigInt(v),
            W::TinyUnsigned(v) => Value::TinyUnsigned(v),
            W::SmallUnsigned(v) => Value::SmallUnsigned(v),
            W::Unsigned(v) => Value::Unsigned(v),
            W::BigUnsigned(v) => {
                Value::BigUnsigned(typed(K::BigUnsigned, v, bounds::big_unsigned)?)
            }
            W::Float(v) => Value::Float(v),
            W::Double(v) => Value::Double(v),
            W::String(v) => Value::String(v),
            W::Enum {
                type_name,
                value: Some(value),
            } => Value::Enum(OptionEnum::Some(Box::new(Enum {
                type_name: type_name.as_str().into(),
                value: value.into(),
            }))),
            W::Enum {
                type_name,
                value: None,
            } => Value::Enum(OptionEnum::None(type_name.as_str().into())),
            W::Char(v) => Value::Char(v),
            W::Bytes(v) => Value::Bytes(v),
            W::Json(v) => Value::Json(typed(K::Json, v, |t| bounds::json(&t).map(Box::new))?),
            W::ChronoDate(v) => Value::ChronoDate(typed(K::ChronoDate, v, bounds::chrono_date)?),
            W::ChronoTime(v) => Value::ChronoTime(typed(K::ChronoTime, v, bounds::chrono_time)?),
            W::ChronoDateTime(v) => Value::ChronoDateTime(typed(K::ChronoDateTime, v, |i| {
                bounds::chrono_utc(i).map(|d| d.naive_utc())
            })?),
            W::ChronoDateTimeUtc(v) => {
                Value::ChronoDateTimeUtc(typed(K::ChronoDateTimeUtc, v, bounds::chrono_utc)?)
            }
            W::ChronoDateTimeLocal(v) => {
                Value::ChronoDateTimeLocal(typed(K::ChronoDateTimeLocal, v, bounds::chrono_local)?)
            }
            W::ChronoDateTimeWithTimeZone(v) => Value::ChronoDateTimeWithTimeZone(typed(
                K::ChronoDateTimeWithTimeZone,
                v,
                |(i, offset)| bounds::chrono_zoned(i, offset),
            )?),
            W::TimeDate(v) => Value::TimeDate(typed(K::TimeDate, v, bounds::time_date)?),
            W::TimeTime(v) => Value::TimeTime(typed(K::TimeTime, v, bounds::time_time)?),
            W::TimeDateTime(v) => Value::TimeDateTime(typed(K::TimeDateTime, v, |(d, t)| {
                Ok(time::PrimitiveDateTime::new(
                    bounds::time_date(d)?,
                    bounds::time_time(t)?,
                ))
            })?),
            W::TimeDateTimeWithTimeZone(v) => Value::TimeDateTimeWithTimeZone(typed(
                K::TimeDateTimeWithTimeZone,
                v,
                |(nanos, offset)| bounds::time_zoned(nanos, offset),
            )?),
            W::Uuid(v) => Value::Uuid(v.map(uuid::Uuid::from_bytes)),
            W::Decimal(v) => Value::Decimal(typed(K::Decimal, v, bounds::decimal)?),
            W::Array { element, values } => array::into_value(element, values)?,
        })
    }
}

impl TryFrom<WireValue> for Value {
    type Error = RepoError;

    /// [`WireValue::into_value`], with a refusal as [`RepoError::Codec`].
    fn try_from(value: WireValue) -> Result<Self, RepoError> {
        Ok(value.into_value()?)
    }
}
