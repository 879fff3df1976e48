//! PostgreSQL arrays: `WireValue::Array` ⇄ `pb::ArrayValue`. The rules on elements (their
//! type, no nesting, no NULL element in a parameter) are `repo-core`'s
//! (`model/value/array.rs`); here only the message's own shape is checked: an element kind
//! or an enum type, never both, no elements in a NULL array, no array as an element
//! (refused before it is looked into, so decoding recurses one level whatever the input
//! nests).

use repo_core::spi::{ArrayElement, WireValue};

use super::ConvertError;
use super::value::{decode_wire, encode_wire, value_kind};
use crate::proto as pb;
use pb::value::Value as V;

/// An array: its element kind (or enum type), whether it is NULL, its elements.
pub(super) fn encode_array(
    element: ArrayElement,
    values: Option<Vec<WireValue>>,
) -> Result<pb::ArrayValue, ConvertError> {
    let (kind, enum_type) = match element {
        ArrayElement::Kind(kind) => (pb::ValueKind::from(kind), None),
        ArrayElement::Enum(name) => (pb::ValueKind::Unspecified, Some(name)),
    };
    Ok(pb::ArrayValue {
        element: kind as i32,
        enum_type,
        null: values.is_none(),
        elements: values
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                Ok(pb::Value {
                    value: Some(encode_wire(v)?),
                })
            })
            .collect::<Result<_, ConvertError>>()?,
    })
}

/// An array's element type and elements. An element that is itself an array is refused
/// before it is looked into, so decoding recurses one level whatever the input nests.
pub(super) fn decode_array(a: pb::ArrayValue) -> Result<WireValue, ConvertError> {
    let element = match a.enum_type {
        Some(name) if a.element == pb::ValueKind::Unspecified as i32 => ArrayElement::Enum(name),
        Some(_) => {
            return Err(ConvertError(
                "an array with both an element kind and an enum type".into(),
            ));
        }
        None => ArrayElement::Kind(value_kind(a.element)?),
    };
    if a.null {
        if !a.elements.is_empty() {
            return Err(ConvertError("a NULL array with elements".into()));
        }
        return Ok(WireValue::Array {
            element,
            values: None,
        });
    }
    let values = a
        .elements
        .into_iter()
        .map(|e| match e.value {
            None => Err(ConvertError::missing("array element")),
            Some(V::Array(_)) => Err(ConvertError(
                "an array element is an array: arrays do not nest".into(),
            )),
            Some(v) => decode_wire(v),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WireValue::Array {
        element,
        values: Some(values),
    })
}
