//! `WireValue`: a sea-orm [`Value`] as plain data that survives any byte encoding.
//!
//! Every variant of sea-orm's `Value` that SQLite can store, and PostgreSQL's arrays of
//! them, has a variant here that keeps
//! its exact Rust type (an `i32` stays an `i32`, a `DateTime<FixedOffset>` keeps its
//! offset), so a row or a bound parameter decodes on another node exactly as it would
//! locally: sea-orm matches value variants strictly. Dates and times are kept as integers
//! and decimals as their 16-byte form, so no text format can lose precision.
//!
//! A wire value comes from the network, so it can hold anything its integers can: both
//! directions check it against the bounds in [`bounds`](self::bounds) (one owner per rule),
//! and a value that would panic later — when sqlx binds it, when it is encoded again, when
//! its row is read back — is refused with a [`ValueError`](bounds::ValueError) naming its kind and why.
//!
//! [`Value`]: sea_orm::Value

mod array;
mod bind;
mod bounds;
mod decode;
mod encode;

pub use array::ArrayElement;
pub use bounds::{ValueError, ValueReason};

use chrono::{DateTime, NaiveTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

/// A typed SQL value in a form that any serde format can carry.
///
/// Each variant mirrors the [`Value`](sea_orm::Value) variant of the same name; `None` is a
/// typed NULL. Converting to a `Value` ([`WireValue::into_value`]) checks every bound, and
/// so does converting from one (`WireValue::try_from(&value)`).
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
    /// At most `i64::MAX`: SQLite integers are signed 64-bit.
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
    /// The instant and its UTC offset in seconds.
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
    /// A PostgreSQL array: its element type and, unless the array is NULL, its elements
    /// (each of that type, none an array; the rules are in `array.rs`).
    Array {
        element: ArrayElement,
        values: Option<Vec<WireValue>>,
    },
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
}

impl WireTime {
    fn of(t: &NaiveTime) -> Self {
        Self {
            secs: t.num_seconds_from_midnight(),
            nanos: t.nanosecond(),
        }
    }

    fn of_time(t: &time::Time) -> Self {
        let (h, m, s, n) = t.as_hms_nano();
        Self {
            secs: u32::from(h) * 3600 + u32::from(m) * 60 + u32::from(s),
            nanos: n,
        }
    }
}
