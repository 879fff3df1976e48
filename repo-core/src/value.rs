//! `WireValue`: a sea-orm [`Value`] as plain data that survives any byte encoding.
//!
//! Every variant of sea-orm's `Value` that SQLite can store has a variant here that keeps
//! its exact Rust type (an `i32` stays an `i32`, a `DateTime<FixedOffset>` keeps its
//! offset), so a row or a bound parameter decodes on another node exactly as it would
//! locally: sea-orm matches value variants strictly. Dates and times are kept as integers
//! and decimals as their 16-byte form, so no text format can lose precision.

use chrono::{
    DateTime, Datelike, FixedOffset, Local, NaiveDate, NaiveTime, TimeZone, Timelike, Utc,
};
use sea_orm::Value;
use sea_orm::sea_query::{Enum, OptionEnum};
use serde::{Deserialize, Serialize};

use crate::error::RepoError;

/// A typed SQL value in a form that any serde format can carry.
///
/// Each variant mirrors the [`Value`] variant of the same name; `None` is a typed NULL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // each variant is documented by the `Value` variant it mirrors
pub enum WireValue {
    Bool(Option<bool>),
    TinyInt(Option<i8>),
    SmallInt(Option<i16>),
    Int(Option<i32>),
    BigInt(Option<i64>),
    TinyUnsigned(Option<u8>),
    SmallUnsigned(Option<u16>),
    Unsigned(Option<u32>),
    BigUnsigned(Option<u64>),
    Float(Option<f32>),
    Double(Option<f64>),
    String(Option<String>),
    /// A database enum: its type name and value.
    Enum {
        type_name: String,
        value: Option<String>,
    },
    Char(Option<char>),
    Bytes(Option<Vec<u8>>),
    /// JSON as its text.
    Json(Option<String>),
    /// Days since 0001-01-01 (`num_days_from_ce`).
    ChronoDate(Option<i32>),
    ChronoTime(Option<WireTime>),
    ChronoDateTime(Option<WireInstant>),
    ChronoDateTimeUtc(Option<WireInstant>),
    ChronoDateTimeLocal(Option<WireInstant>),
    ChronoDateTimeWithTimeZone(Option<(WireInstant, i32)>),
    /// Julian day number.
    TimeDate(Option<i32>),
    TimeTime(Option<WireTime>),
    TimeDateTime(Option<(i32, WireTime)>),
    /// Unix nanoseconds and UTC offset in seconds.
    TimeDateTimeWithTimeZone(Option<(i128, i32)>),
    Uuid(Option<[u8; 16]>),
    /// `rust_decimal::Decimal::serialize` form.
    Decimal(Option<[u8; 16]>),
}

/// A time of day: seconds since midnight and nanoseconds (nanoseconds can exceed a second
/// during a leap second, as chrono allows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTime {
    /// Seconds since midnight.
    pub secs: u32,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// An instant: seconds since the Unix epoch and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireInstant {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl WireInstant {
    fn of<Tz: TimeZone>(t: &DateTime<Tz>) -> Self {
        Self {
            secs: t.timestamp(),
            nanos: t.timestamp_subsec_nanos(),
        }
    }

    fn utc(self) -> Result<DateTime<Utc>, RepoError> {
        DateTime::from_timestamp(self.secs, self.nanos).ok_or_else(|| bad("instant out of range"))
    }
}

impl WireTime {
    fn of(t: &NaiveTime) -> Self {
        Self {
            secs: t.num_seconds_from_midnight(),
            nanos: t.nanosecond(),
        }
    }

    fn chrono(self) -> Result<NaiveTime, RepoError> {
        NaiveTime::from_num_seconds_from_midnight_opt(self.secs, self.nanos)
            .ok_or_else(|| bad("time of day out of range"))
    }

    fn time(self) -> Result<time::Time, RepoError> {
        let (h, m, s) = (self.secs / 3600, (self.secs / 60) % 60, self.secs % 60);
        let narrow = |v: u32| u8::try_from(v).map_err(|_| bad("time of day out of range"));
        time::Time::from_hms_nano(narrow(h)?, narrow(m)?, narrow(s)?, self.nanos)
            .map_err(|e| bad(&e.to_string()))
    }

    fn of_time(t: &time::Time) -> Self {
        let (h, m, s, n) = t.as_hms_nano();
        Self {
            secs: u32::from(h) * 3600 + u32::from(m) * 60 + u32::from(s),
            nanos: n,
        }
    }
}

fn bad(what: &str) -> RepoError {
    RepoError::Codec(format!("invalid value: {what}"))
}

impl TryFrom<&Value> for WireValue {
    type Error = RepoError;

    fn try_from(value: &Value) -> Result<Self, RepoError> {
        use WireValue as W;
        Ok(match value {
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
            // Variants of features this workspace does not enable (feature unification can
            // turn them on through another crate); SQLite cannot store most of them anyway.
            #[allow(unreachable_patterns)]
            other => {
                return Err(RepoError::Codec(format!(
                    "value {other:?} has no wire encoding: SQLite cannot store it"
                )));
            }
        })
    }
}

impl TryFrom<WireValue> for Value {
    type Error = RepoError;

    fn try_from(value: WireValue) -> Result<Self, RepoError> {
        use WireValue as W;
        Ok(match value {
            W::Bool(v) => Value::Bool(v),
            W::TinyInt(v) => Value::TinyInt(v),
            W::SmallInt(v) => Value::SmallInt(v),
            W::Int(v) => Value::Int(v),
            W::BigInt(v) => Value::BigInt(v),
            W::TinyUnsigned(v) => Value::TinyUnsigned(v),
            W::SmallUnsigned(v) => Value::SmallUnsigned(v),
            W::Unsigned(v) => Value::Unsigned(v),
            W::BigUnsigned(v) => Value::BigUnsigned(v),
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
            W::Json(v) => Value::Json(
                v.map(|text| serde_json::from_str(&text).map(Box::new))
                    .transpose()
                    .map_err(|e| bad(&format!("json: {e}")))?,
            ),
            W::ChronoDate(v) => Value::ChronoDate(
                v.map(|d| NaiveDate::from_num_days_from_ce_opt(d).ok_or_else(|| bad("date")))
                    .transpose()?,
            ),
            W::ChronoTime(v) => Value::ChronoTime(v.map(WireTime::chrono).transpose()?),
            W::ChronoDateTime(v) => {
                Value::ChronoDateTime(v.map(|i| i.utc().map(|d| d.naive_utc())).transpose()?)
            }
            W::ChronoDateTimeUtc(v) => {
                Value::ChronoDateTimeUtc(v.map(WireInstant::utc).transpose()?)
            }
            W::ChronoDateTimeLocal(v) => Value::ChronoDateTimeLocal(
                v.map(|i| i.utc().map(|d| d.with_timezone(&Local)))
                    .transpose()?,
            ),
            W::ChronoDateTimeWithTimeZone(v) => Value::ChronoDateTimeWithTimeZone(
                v.map(|(i, offset)| {
                    let tz = FixedOffset::east_opt(offset).ok_or_else(|| bad("utc offset"))?;
                    Ok::<_, RepoError>(i.utc()?.with_timezone(&tz))
                })
                .transpose()?,
            ),
            W::TimeDate(v) => Value::TimeDate(v.map(julian).transpose()?),
            W::TimeTime(v) => Value::TimeTime(v.map(WireTime::time).transpose()?),
            W::TimeDateTime(v) => Value::TimeDateTime(
                v.map(|(d, t)| {
                    Ok::<_, RepoError>(time::PrimitiveDateTime::new(julian(d)?, t.time()?))
                })
                .transpose()?,
            ),
            W::TimeDateTimeWithTimeZone(v) => Value::TimeDateTimeWithTimeZone(
                v.map(|(nanos, offset)| {
                    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
                        .map_err(|e| bad(&e.to_string()))?;
                    let tz = time::UtcOffset::from_whole_seconds(offset)
                        .map_err(|e| bad(&e.to_string()))?;
                    Ok::<_, RepoError>(at.to_offset(tz))
                })
                .transpose()?,
            ),
            W::Uuid(v) => Value::Uuid(v.map(uuid::Uuid::from_bytes)),
            W::Decimal(v) => Value::Decimal(v.map(decimal).transpose()?),
        })
    }
}

/// Rebuilds a decimal from its 16-byte form, refusing flag bits no decimal has.
fn decimal(bytes: [u8; 16]) -> Result<rust_decimal::Decimal, RepoError> {
    let flags = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let scale = (flags >> 16) & 0xFF;
    if scale > rust_decimal::Decimal::MAX_SCALE || flags & 0x7F00_FFFF != 0 {
        return Err(bad("decimal"));
    }
    Ok(rust_decimal::Decimal::deserialize(bytes))
}

fn julian(day: i32) -> Result<time::Date, RepoError> {
    time::Date::from_julian_day(day).map_err(|e| bad(&e.to_string()))
}
