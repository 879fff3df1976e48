//! sea-orm `Value` → `WireValue`, refusing what the receiving node would refuse.
//!
//! A local `Value` can hold what no wire value may (`DateTime::from_naive_utc_and_offset`
//! does not check that the local time exists, a `u64` can exceed SQLite's integers): such
//! a value is refused here, with the same [`ValueError`] the receiver would send back.

use chrono::Datelike;
use sea_orm::Value;
use sea_orm::sea_query::OptionEnum;

use super::array;
use super::bounds::{self, ValueError, ValueReason};
use super::{WireInstant, WireTime, WireValue};
use crate::error::RepoError;
use crate::row::ValueKind;

/// Checks a present value with `f`, naming `kind` in a refusal.
fn within<W: Copy, T>(
    kind: ValueKind,
    v: &Option<W>,
    f: impl FnOnce(W) -> Result<T, ValueReason>,
) -> Result<(), ValueError> {
    match v {
        Some(w) => f(*w)
            .map(drop)
            .map_err(|reason| ValueError::new(kind, reason)),
        None => Ok(()),
    }
}

impl WireValue {
    /// Checks every bound [`WireValue::into_value`] checks, without building the value
    /// (JSON text is not parsed again: text printed from a `serde_json::Value` parses).
    pub fn check(&self) -> Result<(), ValueError> {
        use ValueKind as K;
        use WireValue as W;
        match self {
            W::BigUnsigned(v) => within(K::BigUnsigned, v, bounds::big_unsigned),
            W::ChronoDate(v) => within(K::ChronoDate, v, bounds::chrono_date),
            W::ChronoTime(v) => within(K::ChronoTime, v, bounds::chrono_time),
            W::ChronoDateTime(v) => within(K::ChronoDateTime, v, bounds::chrono_utc),
            W::ChronoDateTimeUtc(v) => within(K::ChronoDateTimeUtc, v, bounds::chrono_utc),
            W::ChronoDateTimeLocal(v) => within(K::ChronoDateTimeLocal, v, bounds::chrono_local),
            W::ChronoDateTimeWithTimeZone(v) => {
                within(K::ChronoDateTimeWithTimeZone, v, |(i, o)| {
                    bounds::chrono_zoned(i, o)
                })
            }
            W::TimeDate(v) => within(K::TimeDate, v, bounds::time_date),
            W::TimeTime(v) => within(K::TimeTime, v, bounds::time_time),
            W::TimeDateTime(v) => within(K::TimeDateTime, v, |(d, t)| {
                bounds::time_date(d)?;
                bounds::time_time(t)
            }),
            W::TimeDateTimeWithTimeZone(v) => within(K::TimeDateTimeWithTimeZone, v, |(n, o)| {
                bounds::time_zoned(n, o)
            }),
            W::Decimal(v) => within(K::Decimal, v, bounds::decimal),
            W::Array { element, values } => array::check(element, values.as_deref()),
            W::Bool(_)
            | W::TinyInt(_)
            | W::SmallInt(_)
            | W::Int(_)
            | W::BigInt(_)
            | W::TinyUnsigned(_)
            | W::SmallUnsigned(_)
            | W::Unsigned(_)
            | W::Float(_)
            | W::Double(_)
            | W::String(_)
            | W::Enum { .. }
            | W::Char(_)
            | W::Bytes(_)
            | W::Json(_)
            | W::Uuid(_) => Ok(()),
        }
    }
}

impl TryFrom<&Value> for WireValue {
    type Error = RepoError;

    fn try_from(value: &Value) -> Result<Self, RepoError> {
        use WireValue as W;
        let wire = match value {
            Value::Bool(v) => W::Bool(*v),
            Value::TinyInt(v) => W::TinyInt(*v),
            Value::SmallInt(v) => W::SmallInt(*v),
            Value::Int(v) => W::Int(*v),
            Value::BigInt(v) => W::BigInt(*v),
            Value::TinyUnsigned(v) => W::TinyUnsigned(*v),
            Value::SmallUnsigned(v) => W::SmallUnsigned(*v),
            Value::Unsigned(v) => W::Unsigned(*v),
            Value::BigUnsigned(v) => W::BigUnsigned(*v),
            Value::Float(v) => W::Float(*v),
            Value::Double(v) => W::Double(*v),
            Value::String(v) => W::String(v.clone()),
            Value::Enum(OptionEnum::Some(e)) => W::Enum {
                type_name: e.type_name.to_string(),
                value: Some(e.value.to_string()),
            },
            Value::Enum(OptionEnum::None(name)) => W::Enum {
                type_name: name.to_string(),
                value: None,
            },
            Value::Char(v) => W::Char(*v),
            Value::Bytes(v) => W::Bytes(v.clone()),
            Value::Json(v) => W::Json(v.as_ref().map(|j| j.to_string())),
            Value::ChronoDate(v) => W::ChronoDate(v.map(|d| d.num_days_from_ce())),
            Value::ChronoTime(v) => W::ChronoTime(v.as_ref().map(WireTime::of)),
            Value::ChronoDateTime(v) => W::ChronoDateTime(v.map(|d| WireInstant::of(&d.and_utc()))),
            Value::ChronoDateTimeUtc(v) => W::ChronoDateTimeUtc(v.as_ref().map(WireInstant::of)),
            Value::ChronoDateTimeLocal(v) => {
                W::ChronoDateTimeLocal(v.as_ref().map(WireInstant::of))
            }
            Value::ChronoDateTimeWithTimeZone(v) => W::ChronoDateTimeWithTimeZone(
                v.as_ref()
                    .map(|d| (WireInstant::of(d), d.offset().local_minus_utc())),
            ),
            Value::TimeDate(v) => W::TimeDate(v.map(|d| d.to_julian_day())),
            Value::TimeTime(v) => W::TimeTime(v.as_ref().map(WireTime::of_time)),
            Value::TimeDateTime(v) => {
                W::TimeDateTime(v.map(|d| (d.date().to_julian_day(), WireTime::of_time(&d.time()))))
            }
            Value::TimeDateTimeWithTimeZone(v) => W::TimeDateTimeWithTimeZone(
                v.map(|d| (d.unix_timestamp_nanos(), d.offset().whole_seconds())),
            ),
            Value::Uuid(v) => W::Uuid(v.map(|u| u.into_bytes())),
            Value::Decimal(v) => W::Decimal(v.map(|d| d.serialize())),
            Value::Array(ty, values) => array::encode(ty, values.as_deref().map(Vec::as_slice))?,
            // Variants of features this workspace does not enable (feature unification can
            // turn them on through another crate); SQLite cannot store most of them anyway.
            #[allow(unreachable_patterns)]
            other => {
                return Err(RepoError::Codec(format!(
                    "value of type {} has no wire encoding: neither SQLite nor the wire carries it",
                    variant_name(other)
                )));
            }
        };
        wire.check()?;
        Ok(wire)
    }
}

/// The variant's name alone: the old message printed the whole value (unbounded).
fn variant_name(value: &Value) -> String {
    let debug = format!("{value:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect()
}
