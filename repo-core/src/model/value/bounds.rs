//! Bounds: the one place that decides which wire values may become a sea-orm `Value`.
//!
//! A value that gets past these checks can be bound by sqlx, encoded again and read back
//! without a panic. Each function below builds the typed value or says why it cannot:
//!
//! | kind | accepted |
//! | --- | --- |
//! | `BigUnsigned` | `0..=i64::MAX` (SQLite integers are signed; sea-query's binder unwraps) |
//! | `ChronoDate` | chrono's `NaiveDate::MIN..=MAX` (about ±262,000 years) |
//! | `ChronoTime` | seconds `< 86_400`; nanoseconds `< 1e9`, or `< 2e9` at a `:59` second (leap second, as chrono allows) |
//! | `ChronoDateTime`, `ChronoDateTimeUtc` | chrono's `DateTime<Utc>` range, nanoseconds as for `ChronoTime` |
//! | `ChronoDateTimeLocal` | the same, one day in from either end (so no local offset can overflow), and the local time in range |
//! | `ChronoDateTimeWithTimeZone` | offset `|s| < 86_400` (`FixedOffset`), and instant + offset within chrono's calendar |
//! | `TimeDate` | Julian days of `time::Date::MIN..=MAX` (years ±9999) |
//! | `TimeTime` | seconds `< 86_400`, nanoseconds `< 1e9` (no leap seconds in `time`) |
//! | `TimeDateTime` | both of the above |
//! | `TimeDateTimeWithTimeZone` | `time`'s UTC range, offset `|s| <= 93_599` (`UtcOffset`), instant + offset within the calendar |
//! | `Decimal` | scale `<= 28`, no flag bits other than sign and scale |
//! | `Json` | text that `serde_json` parses (its own depth limit of 128 applies) |
//!
//! A statement's parameters have two more rules (`WireValue::check_bindable`, in
//! `bind.rs`): a zoned date-time's offset in whole minutes, and a `time` one with a local
//! year in 0000-9999 and an offset under 24 hours, the forms sqlx can write.
//!
//! Everything else (strings, bytes, enums, floats including NaN and infinities, UUIDs,
//! chars, which the wire already holds as Unicode scalar values) has no bound beyond the
//! message size.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveTime, Offset, Utc};

use super::{WireInstant, WireTime};
use crate::error::RepoError;
use crate::row::ValueKind;

/// Why a value was refused. The reasons are fixed texts: a refusal never echoes its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueReason {
    /// An unsigned integer above `i64::MAX`: SQLite stores signed 64-bit integers only.
    ExceedsSqliteInteger,
    /// A day number outside the calendar of the value's date type.
    DateOutOfRange,
    /// Seconds since midnight of 86,400 or more, or nanoseconds beyond the type's limit.
    TimeOfDayOutOfRange,
    /// An instant outside the range of the value's date-time type.
    InstantOutOfRange,
    /// A UTC offset outside the range of the value's offset type.
    OffsetOutOfRange,
    /// The instant's local date-time (instant plus offset) falls outside the calendar.
    LocalTimeOutOfRange,
    /// A decimal scale above 28.
    DecimalScale,
    /// Decimal flag bits that no decimal has.
    DecimalFlags,
    /// JSON text that does not parse.
    InvalidJson,
    /// An offset with a seconds part: sqlx writes offsets in whole minutes, so chrono's
    /// instant would move and `time`'s would not be written at all.
    OffsetSeconds,
    /// A `time` date-time that RFC 3339 (sqlx's text form) cannot hold: a local year
    /// outside 0000-9999 or an offset of 24 hours or more.
    NotRfc3339,
    /// An array element that is not of the array's element type (an array included:
    /// arrays do not nest).
    ArrayElementType,
    /// A NULL element in an array bound as a parameter: sea-query's PostgreSQL binder
    /// cannot bind one.
    ArrayNullElement,
    /// An array of `u8` bound as a parameter: sea-query's PostgreSQL binder reads it as
    /// `Vec<u8>`, which is bytes, and panics (sea-orm makes `Vec<u8>` bytes, never this).
    ArrayOfTinyUnsigned,
}

impl std::fmt::Display for ValueReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ExceedsSqliteInteger => "above i64::MAX, the largest integer SQLite stores",
            Self::DateOutOfRange => "date out of range",
            Self::TimeOfDayOutOfRange => "time of day out of range",
            Self::InstantOutOfRange => "instant out of range",
            Self::OffsetOutOfRange => "UTC offset out of range",
            Self::LocalTimeOutOfRange => "local date-time (instant plus offset) out of range",
            Self::DecimalScale => "decimal scale above 28",
            Self::DecimalFlags => "decimal flags with unknown bits",
            Self::InvalidJson => "JSON text does not parse",
            Self::OffsetSeconds => "UTC offset with a seconds part, which sqlx cannot write",
            Self::NotRfc3339 => "local year or offset outside RFC 3339, which sqlx writes",
            Self::ArrayElementType => "an element not of the array's element type",
            Self::ArrayNullElement => {
                "a NULL element, which sea-query's PostgreSQL binder cannot bind"
            }
            Self::ArrayOfTinyUnsigned => {
                "an array of u8, which sea-query's PostgreSQL binder cannot bind"
            }
        })
    }
}

/// A value refused by the bounds: which kind and why.
///
/// It becomes [`RepoError::Codec`], which a forwarding server answers with
/// `INVALID_ARGUMENT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} {} refused: {reason}", if *.array { "array" } else { "value" })]
pub struct ValueError {
    /// The kind of value that was refused (an array's element kind; `String` for an enum).
    kind: ValueKind,
    /// Why it was refused.
    reason: ValueReason,
    /// Whether an array of `kind` was refused, rather than one value.
    array: bool,
}

impl ValueError {
    pub(super) fn new(kind: ValueKind, reason: ValueReason) -> Self {
        Self {
            kind,
            reason,
            array: false,
        }
    }

    pub(super) fn in_array(kind: ValueKind, reason: ValueReason) -> Self {
        Self {
            kind,
            reason,
            array: true,
        }
    }

    /// Whether an array was refused (its elements are of [`ValueError::kind`]).
    pub fn is_array(&self) -> bool {
        self.array
    }

    /// The kind of value that was refused.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// Why it was refused.
    pub fn reason(&self) -> ValueReason {
        self.reason
    }
}

impl From<ValueError> for RepoError {
    fn from(e: ValueError) -> Self {
        RepoError::Codec(format!("invalid value: {e}"))
    }
}

type Bounded<T> = Result<T, ValueReason>;

pub(super) fn big_unsigned(v: u64) -> Bounded<u64> {
    if i64::try_from(v).is_err() {
        return Err(ValueReason::ExceedsSqliteInteger);
    }
    Ok(v)
}

pub(super) fn chrono_date(days_from_ce: i32) -> Bounded<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days_from_ce).ok_or(ValueReason::DateOutOfRange)
}

pub(super) fn chrono_time(t: WireTime) -> Bounded<NaiveTime> {
    NaiveTime::from_num_seconds_from_midnight_opt(t.secs, t.nanos)
        .ok_or(ValueReason::TimeOfDayOutOfRange)
}

pub(super) fn chrono_utc(i: WireInstant) -> Bounded<DateTime<Utc>> {
    DateTime::from_timestamp(i.secs, i.nanos).ok_or(ValueReason::InstantOutOfRange)
}

/// One day in from chrono's extremes: no offset of a real zone (all under 24 hours) can
/// push the local time out of the calendar when the node's zone is applied.
pub(super) fn chrono_local(i: WireInstant) -> Bounded<DateTime<Local>> {
    const DAY: i64 = 86_400;
    let min = DateTime::<Utc>::MIN_UTC.timestamp() + DAY;
    let max = DateTime::<Utc>::MAX_UTC.timestamp() - DAY;
    if !(min..=max).contains(&i.secs) {
        return Err(ValueReason::InstantOutOfRange);
    }
    let local = chrono_utc(i)?.with_timezone(&Local);
    local
        .naive_utc()
        .checked_add_offset(local.offset().fix())
        .ok_or(ValueReason::LocalTimeOutOfRange)?;
    Ok(local)
}

pub(super) fn chrono_zoned(i: WireInstant, offset: i32) -> Bounded<DateTime<FixedOffset>> {
    let tz = FixedOffset::east_opt(offset).ok_or(ValueReason::OffsetOutOfRange)?;
    let utc = chrono_utc(i)?;
    // `DateTime::naive_local` (used by sqlx to write it, and by chrono's formatting)
    // panics when this overflows.
    utc.naive_utc()
        .checked_add_offset(tz)
        .ok_or(ValueReason::LocalTimeOutOfRange)?;
    Ok(utc.with_timezone(&tz))
}

pub(super) fn time_date(julian_day: i32) -> Bounded<time::Date> {
    time::Date::from_julian_day(julian_day).map_err(|_| ValueReason::DateOutOfRange)
}

pub(super) fn time_time(t: WireTime) -> Bounded<time::Time> {
    let bad = |_| ValueReason::TimeOfDayOutOfRange;
    let (h, m, s) = (t.secs / 3600, (t.secs / 60) % 60, t.secs % 60);
    let h = u8::try_from(h).map_err(bad)?;
    let (m, s) = (u8::try_from(m).map_err(bad)?, u8::try_from(s).map_err(bad)?);
    time::Time::from_hms_nano(h, m, s, t.nanos).map_err(|_| ValueReason::TimeOfDayOutOfRange)
}

pub(super) fn time_zoned(unix_nanos: i128, offset: i32) -> Bounded<time::OffsetDateTime> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(unix_nanos)
        .map_err(|_| ValueReason::InstantOutOfRange)?;
    let tz =
        time::UtcOffset::from_whole_seconds(offset).map_err(|_| ValueReason::OffsetOutOfRange)?;
    // `to_offset` panics when the local date-time leaves the calendar.
    at.checked_to_offset(tz)
        .ok_or(ValueReason::LocalTimeOutOfRange)
}

/// Rebuilds a decimal from its 16-byte form, refusing flag bits no decimal has.
pub(super) fn decimal(bytes: [u8; 16]) -> Bounded<rust_decimal::Decimal> {
    let flags = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if (flags >> 16) & 0xFF > rust_decimal::Decimal::MAX_SCALE {
        return Err(ValueReason::DecimalScale);
    }
    if flags & 0x7F00_FFFF != 0 {
        return Err(ValueReason::DecimalFlags);
    }
    Ok(rust_decimal::Decimal::deserialize(bytes))
}

pub(super) fn json(text: &str) -> Bounded<serde_json::Value> {
    serde_json::from_str(text).map_err(|_| ValueReason::InvalidJson)
}

/// sqlx writes a zoned date-time's offset as `+hh:mm`: a seconds part is lost.
pub(super) fn whole_minute_offset(offset: i32) -> Bounded<()> {
    if offset % 60 != 0 {
        return Err(ValueReason::OffsetSeconds);
    }
    Ok(())
}

/// sqlx writes an `OffsetDateTime` with `time`'s RFC 3339 formatter, which fails (and sqlx
/// then drops the parameter) outside years 0000-9999, offsets of 24 h or more, or offsets
/// with seconds.
pub(super) fn rfc3339_time(unix_nanos: i128, offset: i32) -> Bounded<()> {
    let local = time_zoned(unix_nanos, offset)?;
    whole_minute_offset(offset)?;
    if !(0..=9999).contains(&local.year()) || local.offset().whole_hours().unsigned_abs() > 23 {
        return Err(ValueReason::NotRfc3339);
    }
    Ok(())
}
