//! PostgreSQL arrays as wire values: sea-orm's `Value::Array(ArrayType, Option<Box<Vec<Value>>>)`
//! as an element type and, unless the array is NULL, its elements.
//!
//! The rules, owned here:
//!
//! - every element is a value of the array's element type, a typed NULL included (an enum
//!   array's elements are enums); an element that is itself an array is refused — sea-query
//!   has no array-of-arrays type — so a wire array nests one level, whatever the input;
//! - every element passes its own bounds ([`bounds`](super::bounds));
//! - as a statement parameter ([`WireValue::check_bindable`]) no element may be NULL:
//!   sea-query's PostgreSQL binder turns the elements into a `Vec<T>` and panics on a NULL
//!   one (sea-orm itself never builds such an array: `Vec<Option<T>>` is not a value type).
//!   NULL elements still cross the wire as values (a row, say). Nor may it be an array of
//!   `TinyUnsigned`: the binder reads it as `Vec<u8>`, which sea-query takes for bytes,
//!   and panics on any such array (sea-orm turns a `Vec<u8>` into bytes, never into one).
//!
//! How many elements an array may have is the message's business: a forwarding server
//! weighs every element before decoding (`repo_litefs`'s decode budget). SQLite has no
//! arrays: a forwarding server on SQLite refuses a statement that holds one.

use sea_orm::Value;
use sea_orm::sea_query::ArrayType;
use serde::{Deserialize, Serialize};

use super::WireValue;
use super::bounds::{ValueError, ValueReason};
use crate::error::RepoError;
use crate::row::ValueKind;

/// The element type of a wire array: sea-query's [`ArrayType`] for the types the wire
/// carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArrayElement {
    /// Elements of this kind (`ArrayType::Int` is `Kind(ValueKind::Int)`, and so on).
    Kind(ValueKind),
    /// Elements of the PostgreSQL enum type of this name.
    Enum(String),
}

impl ArrayElement {
    /// The element type of a sea-query array type, or why the wire has none for it.
    pub(super) fn of(ty: &ArrayType) -> Result<Self, RepoError> {
        use ValueKind as K;
        let kind = match ty {
            ArrayType::Enum(name) => return Ok(Self::Enum(name.to_string())),
            ArrayType::Bool => K::Bool,
            ArrayType::TinyInt => K::TinyInt,
            ArrayType::SmallInt => K::SmallInt,
            ArrayType::Int => K::Int,
            ArrayType::BigInt => K::BigInt,
            ArrayType::TinyUnsigned => K::TinyUnsigned,
            ArrayType::SmallUnsigned => K::SmallUnsigned,
            ArrayType::Unsigned => K::Unsigned,
            ArrayType::BigUnsigned => K::BigUnsigned,
            ArrayType::Float => K::Float,
            ArrayType::Double => K::Double,
            ArrayType::String => K::String,
            ArrayType::Char => K::Char,
            ArrayType::Bytes => K::Bytes,
            ArrayType::Json => K::Json,
            ArrayType::ChronoDate => K::ChronoDate,
            ArrayType::ChronoTime => K::ChronoTime,
            ArrayType::ChronoDateTime => K::ChronoDateTime,
            ArrayType::ChronoDateTimeUtc => K::ChronoDateTimeUtc,
            ArrayType::ChronoDateTimeLocal => K::ChronoDateTimeLocal,
            ArrayType::ChronoDateTimeWithTimeZone => K::ChronoDateTimeWithTimeZone,
            ArrayType::TimeDate => K::TimeDate,
            ArrayType::TimeTime => K::TimeTime,
            ArrayType::TimeDateTime => K::TimeDateTime,
            ArrayType::TimeDateTimeWithTimeZone => K::TimeDateTimeWithTimeZone,
            ArrayType::Uuid => K::Uuid,
            ArrayType::Decimal => K::Decimal,
            // Types of features this workspace does not enable (jiff, bigdecimal, network
            // addresses, ranges): feature unification can turn them on elsewhere.
            #[allow(unreachable_patterns)]
            _ => {
                return Err(RepoError::Codec(
                    "an array of this element type has no wire encoding".into(),
                ));
            }
        };
        Ok(Self::Kind(kind))
    }

    /// The sea-query array type.
    pub(crate) fn array_type(&self) -> ArrayType {
        use ValueKind as K;
        match self {
            Self::Enum(name) => ArrayType::Enum(Box::new(name.as_str().into())),
            Self::Kind(kind) => match kind {
                K::Bool => ArrayType::Bool,
                K::TinyInt => ArrayType::TinyInt,
                K::SmallInt => ArrayType::SmallInt,
                K::Int => ArrayType::Int,
                K::BigInt => ArrayType::BigInt,
                K::TinyUnsigned => ArrayType::TinyUnsigned,
                K::SmallUnsigned => ArrayType::SmallUnsigned,
                K::Unsigned => ArrayType::Unsigned,
                K::BigUnsigned => ArrayType::BigUnsigned,
                K::Float => ArrayType::Float,
                K::Double => ArrayType::Double,
                K::String => ArrayType::String,
                K::Char => ArrayType::Char,
                K::Bytes => ArrayType::Bytes,
                K::Json => ArrayType::Json,
                K::ChronoDate => ArrayType::ChronoDate,
                K::ChronoTime => ArrayType::ChronoTime,
                K::ChronoDateTime => ArrayType::ChronoDateTime,
                K::ChronoDateTimeUtc => ArrayType::ChronoDateTimeUtc,
                K::ChronoDateTimeLocal => ArrayType::ChronoDateTimeLocal,
                K::ChronoDateTimeWithTimeZone => ArrayType::ChronoDateTimeWithTimeZone,
                K::TimeDate => ArrayType::TimeDate,
                K::TimeTime => ArrayType::TimeTime,
                K::TimeDateTime => ArrayType::TimeDateTime,
                K::TimeDateTimeWithTimeZone => ArrayType::TimeDateTimeWithTimeZone,
                K::Uuid => ArrayType::Uuid,
                K::Decimal => ArrayType::Decimal,
            },
        }
    }

    /// The kind a refusal names: the element's, `String` for an enum (bound as text).
    fn refusal_kind(&self) -> ValueKind {
        match self {
            Self::Kind(kind) => *kind,
            Self::Enum(_) => ValueKind::String,
        }
    }

    /// Whether `value` is an element of this type (a typed NULL included).
    fn holds(&self, value: &WireValue) -> bool {
        match (self, value) {
            (Self::Enum(_), WireValue::Enum { .. }) => true,
            (Self::Kind(kind), value) => value.scalar_kind() == Some(*kind),
            (Self::Enum(_), _) => false,
        }
    }
}

impl WireValue {
    /// The kind of a scalar value; `None` for an enum or an array.
    pub(super) fn scalar_kind(&self) -> Option<ValueKind> {
        use ValueKind as K;
        use WireValue as W;
        Some(match self {
            W::Bool(_) => K::Bool,
            W::TinyInt(_) => K::TinyInt,
            W::SmallInt(_) => K::SmallInt,
            W::Int(_) => K::Int,
            W::BigInt(_) => K::BigInt,
            W::TinyUnsigned(_) => K::TinyUnsigned,
            W::SmallUnsigned(_) => K::SmallUnsigned,
            W::Unsigned(_) => K::Unsigned,
            W::BigUnsigned(_) => K::BigUnsigned,
            W::Float(_) => K::Float,
            W::Double(_) => K::Double,
            W::String(_) => K::String,
            W::Char(_) => K::Char,
            W::Bytes(_) => K::Bytes,
            W::Json(_) => K::Json,
            W::ChronoDate(_) => K::ChronoDate,
            W::ChronoTime(_) => K::ChronoTime,
            W::ChronoDateTime(_) => K::ChronoDateTime,
            W::ChronoDateTimeUtc(_) => K::ChronoDateTimeUtc,
            W::ChronoDateTimeLocal(_) => K::ChronoDateTimeLocal,
            W::ChronoDateTimeWithTimeZone(_) => K::ChronoDateTimeWithTimeZone,
            W::TimeDate(_) => K::TimeDate,
            W::TimeTime(_) => K::TimeTime,
            W::TimeDateTime(_) => K::TimeDateTime,
            W::TimeDateTimeWithTimeZone(_) => K::TimeDateTimeWithTimeZone,
            W::Uuid(_) => K::Uuid,
            W::Decimal(_) => K::Decimal,
            W::Enum { .. } | W::Array { .. } => return None,
        })
    }

    /// Whether this is a NULL (of any type).
    fn is_null(&self) -> bool {
        use WireValue as W;
        match self {
            W::Bool(v) => v.is_none(),
            W::TinyInt(v) => v.is_none(),
            W::SmallInt(v) => v.is_none(),
            W::Int(v) => v.is_none(),
            W::BigInt(v) => v.is_none(),
            W::TinyUnsigned(v) => v.is_none(),
            W::SmallUnsigned(v) => v.is_none(),
            W::Unsigned(v) => v.is_none(),
            W::BigUnsigned(v) => v.is_none(),
            W::Float(v) => v.is_none(),
            W::Double(v) => v.is_none(),
            W::String(v) | W::Json(v) => v.is_none(),
            W::Enum { value, .. } => value.is_none(),
            W::Char(v) => v.is_none(),
            W::Bytes(v) => v.is_none(),
            W::ChronoDate(v) | W::TimeDate(v) => v.is_none(),
            W::ChronoTime(v) | W::TimeTime(v) => v.is_none(),
            W::ChronoDateTime(v) | W::ChronoDateTimeUtc(v) | W::ChronoDateTimeLocal(v) => {
                v.is_none()
            }
            W::ChronoDateTimeWithTimeZone(v) => v.is_none(),
            W::TimeDateTime(v) => v.is_none(),
            W::TimeDateTimeWithTimeZone(v) => v.is_none(),
            W::Uuid(v) | W::Decimal(v) => v.is_none(),
            W::Array { values, .. } => values.is_none(),
        }
    }
}

/// Checks that every element is of `element`'s type and within its bounds.
pub(super) fn check(
    element: &ArrayElement,
    values: Option<&[WireValue]>,
) -> Result<(), ValueError> {
    for value in values.unwrap_or_default() {
        if !element.holds(value) {
            return Err(ValueError::in_array(
                element.refusal_kind(),
                ValueReason::ArrayElementType,
            ));
        }
        value.check()?;
    }
    Ok(())
}

/// [`check`], and no NULL element and no `u8` element type (sea-query's PostgreSQL binder
/// panics on either), every element bindable.
pub(super) fn check_bindable(
    element: &ArrayElement,
    values: Option<&[WireValue]>,
) -> Result<(), ValueError> {
    check(element, values)?;
    if *element == ArrayElement::Kind(ValueKind::TinyUnsigned) {
        return Err(ValueError::in_array(
            ValueKind::TinyUnsigned,
            ValueReason::ArrayOfTinyUnsigned,
        ));
    }
    for value in values.unwrap_or_default() {
        if value.is_null() {
            return Err(ValueError::in_array(
                element.refusal_kind(),
                ValueReason::ArrayNullElement,
            ));
        }
        value.check_bindable()?;
    }
    Ok(())
}

/// Encodes a sea-orm array, refusing an element of another type before looking inside it.
pub(super) fn encode(ty: &ArrayType, values: Option<&[Value]>) -> Result<WireValue, RepoError> {
    let element = ArrayElement::of(ty)?;
    let values = values
        .map(|values| {
            values
                .iter()
                .map(|value| {
                    if matches!(value, Value::Array(..)) {
                        return Err(RepoError::from(ValueError::in_array(
                            element.refusal_kind(),
                            ValueReason::ArrayElementType,
                        )));
                    }
                    WireValue::try_from(value)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(WireValue::Array { element, values })
}

/// The sea-orm array, every element checked.
pub(super) fn into_value(
    element: ArrayElement,
    values: Option<Vec<WireValue>>,
) -> Result<Value, ValueError> {
    check(&element, values.as_deref())?;
    let values = values
        .map(|values| {
            values
                .into_iter()
                .map(WireValue::into_value)
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(Value::Array(element.array_type(), values.map(Box::new)))
}
