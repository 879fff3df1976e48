//! Values: `sea_orm::Value` ⇄ `pb::Value`, through `repo_core::spi::WireValue` (which already
//! reduces every date, time and decimal to integers).

use repo_core::spi::{ValueKind, WireInstant, WireTime, WireValue};
use sea_orm::Value;

use super::ConvertError;
use super::array::{decode_array, encode_array};
use crate::proto as pb;
use pb::value::Value as V;

/// Encodes a value, keeping its exact type.
pub fn encode_value(value: &Value) -> Result<pb::Value, ConvertError> {
    let wire = WireValue::try_from(value)?;
    Ok(pb::Value {
        value: Some(encode_wire(wire)?),
    })
}

/// Decodes a value encoded by [`encode_value`].
///
/// Every date, time, offset, decimal and integer is checked against the bounds of its
/// Rust type and of SQLite (see `repo_core::spi::WireValue::into_value`): a value that would
/// panic later, when bound, encoded or read back, is refused here with a [`ConvertError`]
/// that names its kind and the reason, and never echoes the input.
pub fn decode_value(value: pb::Value) -> Result<Value, ConvertError> {
    let wire = decode_wire(value.value.ok_or_else(|| ConvertError::missing("value"))?)?;
    wire.into_value()
        .map_err(|e| ConvertError(format!("invalid value: {e}")))
}

/// Decodes a value to be bound as a statement parameter: [`decode_value`], and refused when
/// sqlx cannot bind it faithfully (`WireValue::check_bindable`: an offset that is not whole
/// minutes, a `time` date outside years 0–9999), since sqlx would otherwise drop it and
/// shift the parameters after it.
pub fn decode_parameter(value: pb::Value) -> Result<Value, ConvertError> {
    let wire = decode_wire(value.value.ok_or_else(|| ConvertError::missing("value"))?)?;
    wire.check_bindable()
        .map_err(|e| ConvertError(format!("invalid parameter: {e}")))?;
    wire.into_value()
        .map_err(|e| ConvertError(format!("invalid value: {e}")))
}

fn time(t: WireTime) -> pb::TimeOfDay {
    pb::TimeOfDay {
        seconds: t.secs,
        nanos: t.nanos,
    }
}

fn instant(i: WireInstant) -> pb::Instant {
    pb::Instant {
        seconds: i.secs,
        nanos: i.nanos,
    }
}

fn null(kind: ValueKind) -> V {
    V::Null(pb::ValueKind::from(kind) as i32)
}

pub(super) fn encode_wire(w: WireValue) -> Result<V, ConvertError> {
    use WireValue as W;
    Ok(match w {
        W::Bool(v) => v.map_or(null(ValueKind::Bool), V::Bool),
        W::TinyInt(v) => v.map_or(null(ValueKind::TinyInt), |x| V::TinyInt(x.into())),
        W::SmallInt(v) => v.map_or(null(ValueKind::SmallInt), |x| V::SmallInt(x.into())),
        W::Int(v) => v.map_or(null(ValueKind::Int), V::Int),
        W::BigInt(v) => v.map_or(null(ValueKind::BigInt), V::BigInt),
        W::TinyUnsigned(v) => {
            v.map_or(null(ValueKind::TinyUnsigned), |x| V::TinyUnsigned(x.into()))
        }
        W::SmallUnsigned(v) => v.map_or(null(ValueKind::SmallUnsigned), |x| {
            V::SmallUnsigned(x.into())
        }),
        W::Unsigned(v) => v.map_or(null(ValueKind::Unsigned), V::Unsigned),
        W::BigUnsigned(v) => v.map_or(null(ValueKind::BigUnsigned), V::BigUnsigned),
        W::Float(v) => v.map_or(null(ValueKind::Float), V::Float),
        W::Double(v) => v.map_or(null(ValueKind::Double), V::Double),
        W::String(v) => v.map_or(null(ValueKind::String), V::String),
        W::Enum { type_name, value } => V::Enum(pb::EnumValue { type_name, value }),
        W::Char(v) => v.map_or(null(ValueKind::Char), |c| V::Char(c.into())),
        W::Bytes(v) => v.map_or(null(ValueKind::Bytes), V::Bytes),
        W::Json(v) => v.map_or(null(ValueKind::Json), V::Json),
        W::ChronoDate(v) => v.map_or(null(ValueKind::ChronoDate), V::ChronoDate),
        W::ChronoTime(v) => v.map_or(null(ValueKind::ChronoTime), |t| V::ChronoTime(time(t))),
        W::ChronoDateTime(v) => v.map_or(null(ValueKind::ChronoDateTime), |i| {
            V::ChronoDateTime(instant(i))
        }),
        W::ChronoDateTimeUtc(v) => v.map_or(null(ValueKind::ChronoDateTimeUtc), |i| {
            V::ChronoDateTimeUtc(instant(i))
        }),
        W::ChronoDateTimeLocal(v) => v.map_or(null(ValueKind::ChronoDateTimeLocal), |i| {
            V::ChronoDateTimeLocal(instant(i))
        }),
        W::ChronoDateTimeWithTimeZone(v) => v.map_or(
            null(ValueKind::ChronoDateTimeWithTimeZone),
            |(i, offset)| {
                V::ChronoDateTimeWithTimeZone(pb::ZonedInstant {
                    instant: Some(instant(i)),
                    offset_seconds: offset,
                })
            },
        ),
        W::TimeDate(v) => v.map_or(null(ValueKind::TimeDate), V::TimeDate),
        W::TimeTime(v) => v.map_or(null(ValueKind::TimeTime), |t| V::TimeTime(time(t))),
        W::TimeDateTime(v) => v.map_or(null(ValueKind::TimeDateTime), |(day, t)| {
            V::TimeDateTime(pb::DateAndTime {
                julian_day: day,
                time: Some(time(t)),
            })
        }),
        W::TimeDateTimeWithTimeZone(v) => v.map_or(
            Ok(null(ValueKind::TimeDateTimeWithTimeZone)),
            |(nanos, offset)| {
                let secs = nanos.div_euclid(1_000_000_000);
                let sub = nanos.rem_euclid(1_000_000_000);
                // `WireValue::try_from` checked the instant against `time`'s range (years
                // ±9999), so both fit; a failure is refused rather than clamped.
                Ok::<_, ConvertError>(V::TimeDateTimeWithTimeZone(pb::ZonedInstant {
                    instant: Some(pb::Instant {
                        seconds: narrow(secs, "TimeDateTimeWithTimeZone seconds")?,
                        nanos: narrow(sub, "TimeDateTimeWithTimeZone nanoseconds")?,
                    }),
                    offset_seconds: offset,
                }))
            },
        )?,
        W::Uuid(v) => v.map_or(null(ValueKind::Uuid), |u| V::Uuid(u.to_vec())),
        W::Decimal(v) => v.map_or(null(ValueKind::Decimal), |d| V::Decimal(d.to_vec())),
        W::Array { element, values } => V::Array(encode_array(element, values)?),
    })
}

fn narrow<T: TryFrom<N>, N: Copy + std::fmt::Display>(v: N, what: &str) -> Result<T, ConvertError> {
    T::try_from(v).map_err(|_| ConvertError(format!("{v} does not fit a {what}")))
}

fn wire_time(t: Option<pb::TimeOfDay>) -> Result<WireTime, ConvertError> {
    let t = t.ok_or_else(|| ConvertError::missing("time of day"))?;
    Ok(WireTime {
        secs: t.seconds,
        nanos: t.nanos,
    })
}

fn wire_instant(i: Option<pb::Instant>) -> Result<WireInstant, ConvertError> {
    let i = i.ok_or_else(|| ConvertError::missing("instant"))?;
    Ok(WireInstant {
        secs: i.seconds,
        nanos: i.nanos,
    })
}

fn bytes16(b: Vec<u8>, what: &str) -> Result<[u8; 16], ConvertError> {
    b.try_into()
        .map_err(|_| ConvertError(format!("{what} must be 16 bytes")))
}

pub(super) fn decode_wire(v: V) -> Result<WireValue, ConvertError> {
    use WireValue as W;
    Ok(match v {
        V::Null(kind) => typed_null(kind)?,
        V::Bool(x) => W::Bool(Some(x)),
        V::TinyInt(x) => W::TinyInt(Some(narrow(x, "tiny int")?)),
        V::SmallInt(x) => W::SmallInt(Some(narrow(x, "small int")?)),
        V::Int(x) => W::Int(Some(x)),
        V::BigInt(x) => W::BigInt(Some(x)),
        V::TinyUnsigned(x) => W::TinyUnsigned(Some(narrow(x, "tiny unsigned")?)),
        V::SmallUnsigned(x) => W::SmallUnsigned(Some(narrow(x, "small unsigned")?)),
        V::Unsigned(x) => W::Unsigned(Some(x)),
        V::BigUnsigned(x) => W::BigUnsigned(Some(x)),
        V::Float(x) => W::Float(Some(x)),
        V::Double(x) => W::Double(Some(x)),
        V::String(x) => W::String(Some(x)),
        V::Enum(e) => W::Enum {
            type_name: e.type_name,
            value: e.value,
        },
        V::Char(x) => W::Char(Some(
            char::from_u32(x).ok_or_else(|| ConvertError(format!("{x} is not a char")))?,
        )),
        V::Bytes(x) => W::Bytes(Some(x)),
        V::Json(x) => W::Json(Some(x)),
        V::ChronoDate(x) => W::ChronoDate(Some(x)),
        V::ChronoTime(t) => W::ChronoTime(Some(wire_time(Some(t))?)),
        V::ChronoDateTime(i) => W::ChronoDateTime(Some(wire_instant(Some(i))?)),
        V::ChronoDateTimeUtc(i) => W::ChronoDateTimeUtc(Some(wire_instant(Some(i))?)),
        V::ChronoDateTimeLocal(i) => W::ChronoDateTimeLocal(Some(wire_instant(Some(i))?)),
        V::ChronoDateTimeWithTimeZone(z) => {
            W::ChronoDateTimeWithTimeZone(Some((wire_instant(z.instant)?, z.offset_seconds)))
        }
        V::TimeDate(x) => W::TimeDate(Some(x)),
        V::TimeTime(t) => W::TimeTime(Some(wire_time(Some(t))?)),
        V::TimeDateTime(d) => W::TimeDateTime(Some((d.julian_day, wire_time(d.time)?))),
        V::TimeDateTimeWithTimeZone(z) => {
            let i = wire_instant(z.instant)?;
            if i.nanos >= 1_000_000_000 {
                return Err(ConvertError("nanoseconds out of range".into()));
            }
            let nanos = i128::from(i.secs) * 1_000_000_000 + i128::from(i.nanos);
            W::TimeDateTimeWithTimeZone(Some((nanos, z.offset_seconds)))
        }
        V::Uuid(b) => W::Uuid(Some(bytes16(b, "a uuid")?)),
        V::Decimal(b) => W::Decimal(Some(bytes16(b, "a decimal")?)),
        V::Array(a) => decode_array(a)?,
    })
}

fn typed_null(kind: i32) -> Result<WireValue, ConvertError> {
    use WireValue as W;
    let kind = pb::ValueKind::try_from(kind)
        .map_err(|_| ConvertError(format!("unknown value kind {kind}")))?;
    Ok(match kind {
        pb::ValueKind::Unspecified => return Err(ConvertError("a NULL without a kind".into())),
        pb::ValueKind::Bool => W::Bool(None),
        pb::ValueKind::TinyInt => W::TinyInt(None),
        pb::ValueKind::SmallInt => W::SmallInt(None),
        pb::ValueKind::Int => W::Int(None),
        pb::ValueKind::BigInt => W::BigInt(None),
        pb::ValueKind::TinyUnsigned => W::TinyUnsigned(None),
        pb::ValueKind::SmallUnsigned => W::SmallUnsigned(None),
        pb::ValueKind::Unsigned => W::Unsigned(None),
        pb::ValueKind::BigUnsigned => W::BigUnsigned(None),
        pb::ValueKind::Float => W::Float(None),
        pb::ValueKind::Double => W::Double(None),
        pb::ValueKind::String => W::String(None),
        pb::ValueKind::Char => W::Char(None),
        pb::ValueKind::Bytes => W::Bytes(None),
        pb::ValueKind::Json => W::Json(None),
        pb::ValueKind::ChronoDate => W::ChronoDate(None),
        pb::ValueKind::ChronoTime => W::ChronoTime(None),
        pb::ValueKind::ChronoDateTime => W::ChronoDateTime(None),
        pb::ValueKind::ChronoDateTimeUtc => W::ChronoDateTimeUtc(None),
        pb::ValueKind::ChronoDateTimeLocal => W::ChronoDateTimeLocal(None),
        pb::ValueKind::ChronoDateTimeWithTimeZone => W::ChronoDateTimeWithTimeZone(None),
        pb::ValueKind::TimeDate => W::TimeDate(None),
        pb::ValueKind::TimeTime => W::TimeTime(None),
        pb::ValueKind::TimeDateTime => W::TimeDateTime(None),
        pb::ValueKind::TimeDateTimeWithTimeZone => W::TimeDateTimeWithTimeZone(None),
        pb::ValueKind::Uuid => W::Uuid(None),
        pb::ValueKind::Decimal => W::Decimal(None),
    })
}

impl From<ValueKind> for pb::ValueKind {
    fn from(kind: ValueKind) -> Self {
        match kind {
            ValueKind::Bool => Self::Bool,
            ValueKind::TinyInt => Self::TinyInt,
            ValueKind::SmallInt => Self::SmallInt,
            ValueKind::Int => Self::Int,
            ValueKind::BigInt => Self::BigInt,
            ValueKind::TinyUnsigned => Self::TinyUnsigned,
            ValueKind::SmallUnsigned => Self::SmallUnsigned,
            ValueKind::Unsigned => Self::Unsigned,
            ValueKind::BigUnsigned => Self::BigUnsigned,
            ValueKind::Float => Self::Float,
            ValueKind::Double => Self::Double,
            ValueKind::String => Self::String,
            ValueKind::Char => Self::Char,
            ValueKind::Bytes => Self::Bytes,
            ValueKind::Json => Self::Json,
            ValueKind::ChronoDate => Self::ChronoDate,
            ValueKind::ChronoTime => Self::ChronoTime,
            ValueKind::ChronoDateTime => Self::ChronoDateTime,
            ValueKind::ChronoDateTimeUtc => Self::ChronoDateTimeUtc,
            ValueKind::ChronoDateTimeLocal => Self::ChronoDateTimeLocal,
            ValueKind::ChronoDateTimeWithTimeZone => Self::ChronoDateTimeWithTimeZone,
            ValueKind::TimeDate => Self::TimeDate,
            ValueKind::TimeTime => Self::TimeTime,
            ValueKind::TimeDateTime => Self::TimeDateTime,
            ValueKind::TimeDateTimeWithTimeZone => Self::TimeDateTimeWithTimeZone,
            ValueKind::Uuid => Self::Uuid,
            ValueKind::Decimal => Self::Decimal,
        }
    }
}

/// The `repo-core` kind of a protobuf kind.
pub(crate) fn value_kind(kind: i32) -> Result<ValueKind, ConvertError> {
    match typed_null(kind)? {
        WireValue::Bool(_) => Ok(ValueKind::Bool),
        WireValue::TinyInt(_) => Ok(ValueKind::TinyInt),
        WireValue::SmallInt(_) => Ok(ValueKind::SmallInt),
        WireValue::Int(_) => Ok(ValueKind::Int),
        WireValue::BigInt(_) => Ok(ValueKind::BigInt),
        WireValue::TinyUnsigned(_) => Ok(ValueKind::TinyUnsigned),
        WireValue::SmallUnsigned(_) => Ok(ValueKind::SmallUnsigned),
        WireValue::Unsigned(_) => Ok(ValueKind::Unsigned),
        WireValue::BigUnsigned(_) => Ok(ValueKind::BigUnsigned),
        WireValue::Float(_) => Ok(ValueKind::Float),
        WireValue::Double(_) => Ok(ValueKind::Double),
        WireValue::String(_) => Ok(ValueKind::String),
        WireValue::Char(_) => Ok(ValueKind::Char),
        WireValue::Bytes(_) => Ok(ValueKind::Bytes),
        WireValue::Json(_) => Ok(ValueKind::Json),
        WireValue::ChronoDate(_) => Ok(ValueKind::ChronoDate),
        WireValue::ChronoTime(_) => Ok(ValueKind::ChronoTime),
        WireValue::ChronoDateTime(_) => Ok(ValueKind::ChronoDateTime),
        WireValue::ChronoDateTimeUtc(_) => Ok(ValueKind::ChronoDateTimeUtc),
        WireValue::ChronoDateTimeLocal(_) => Ok(ValueKind::ChronoDateTimeLocal),
        WireValue::ChronoDateTimeWithTimeZone(_) => Ok(ValueKind::ChronoDateTimeWithTimeZone),
        WireValue::TimeDate(_) => Ok(ValueKind::TimeDate),
        WireValue::TimeTime(_) => Ok(ValueKind::TimeTime),
        WireValue::TimeDateTime(_) => Ok(ValueKind::TimeDateTime),
        WireValue::TimeDateTimeWithTimeZone(_) => Ok(ValueKind::TimeDateTimeWithTimeZone),
        WireValue::Uuid(_) => Ok(ValueKind::Uuid),
        WireValue::Decimal(_) => Ok(ValueKind::Decimal),
        WireValue::Enum { .. } | WireValue::Array { .. } => {
            Err(ConvertError("an enum has no null kind".into()))
        }
    }
}
