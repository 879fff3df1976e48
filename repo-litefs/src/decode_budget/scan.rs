//! How much memory a `ForwardRequest` will take once prost decodes it, read from its wire
//! bytes without decoding: a walk over the protobuf encoding guided by the schema of
//! `forward.proto`, adding the in-memory size of every repeated element (a batch step, a
//! value, a shape column). Strings and bytes are not counted: they take what they sent.
//!
//! The walk allocates nothing. It recurses as deep as the schema nests (four messages) and,
//! for an array's elements (a `Value` holds an `ArrayValue` holds `Value`s), as deep as the
//! input nests, up to prost's own recursion limit: prost refuses a deeper message before
//! allocating past that depth, so nothing deeper needs counting. Malformed input stops the
//! walk with what was counted so far, which is at least what prost allocates before it
//! reports the same input malformed.

use std::mem::size_of;

use crate::proto as pb;

/// The messages of `forward.proto` that hold (or lead to) repeated elements.
#[derive(Debug, Clone, Copy)]
enum Schema {
    ForwardRequest,
    Statement,
    Query,
    Shape,
    Batch,
    BatchStep,
    Value,
    ArrayValue,
}

/// How deep the walk goes, the request being depth 1: prost decodes messages nested up to
/// its `RECURSION_LIMIT` (100, not public) below the one it was asked for and refuses a
/// deeper one, so nothing past that is ever allocated. Two levels of margin.
const MAX_DEPTH: u32 = 103;

/// What one length-delimited field holds: bytes counted per occurrence, and the message to
/// walk into.
struct Field {
    element_bytes: usize,
    nested: Option<Schema>,
}

const fn walk(schema: Schema) -> Option<Field> {
    Some(Field {
        element_bytes: 0,
        nested: Some(schema),
    })
}

const fn element<T>(nested: Option<Schema>) -> Option<Field> {
    Some(Field {
        element_bytes: size_of::<T>(),
        nested,
    })
}

impl Schema {
    /// The field `number` of this message, when it matters to the budget.
    const fn field(self, number: u64) -> Option<Field> {
        match (self, number) {
            (Self::ForwardRequest, 4) | (Self::Query, 1) | (Self::BatchStep, 2) => {
                walk(Self::Statement)
            }
            (Self::ForwardRequest, 5) => walk(Self::Query),
            (Self::ForwardRequest, 7) => walk(Self::Batch),
            (Self::Query, 2) | (Self::BatchStep, 4) => walk(Self::Shape),
            (Self::Statement, 2) | (Self::ArrayValue, 4) => element::<pb::Value>(Some(Self::Value)),
            (Self::Value, 30) => walk(Self::ArrayValue),
            (Self::Shape, 1) => element::<pb::ColumnKind>(None),
            (Self::Batch, 1) => element::<pb::BatchStep>(Some(Self::BatchStep)),
            _ => None,
        }
    }
}

/// The bytes the repeated elements of the `ForwardRequest` encoded in `wire` will take
/// once decoded.
pub(super) fn decoded_bytes(wire: &[u8]) -> u64 {
    message_bytes(Schema::ForwardRequest, wire, 1)
}

/// The bytes the `ForwardRequest`s inside the `TransactionMessage` encoded in `wire`
/// (`step` = 2, then `statement` = 1; every occurrence, as prost merges them) will take
/// once decoded.
pub(super) fn transaction_message_bytes(wire: &[u8]) -> u64 {
    let mut total = 0_u64;
    for step in fields(wire, 2) {
        for statement in fields(step, 1) {
            total = total.saturating_add(decoded_bytes(statement));
        }
    }
    total
}

/// The bodies of the length-delimited fields numbered `number` in `wire`, up to the first
/// malformed byte.
fn fields(mut wire: &[u8], number: u64) -> Vec<&[u8]> {
    let mut found = Vec::new();
    while !wire.is_empty() {
        let Some(tag) = varint(&mut wire) else {
            break;
        };
        if tag & 7 == LENGTH_DELIMITED {
            let Some(body) = length_delimited(&mut wire) else {
                break;
            };
            if tag >> 3 == number {
                found.push(body);
            }
        } else if skip(tag & 7, &mut wire).is_none() {
            break;
        }
    }
    found
}

/// What `wire`, a `schema` message at nesting `depth` (the request is 1), holds.
fn message_bytes(schema: Schema, mut wire: &[u8], depth: u32) -> u64 {
    let mut total = 0_u64;
    if depth > MAX_DEPTH {
        return total;
    }
    while !wire.is_empty() {
        let Some(tag) = varint(&mut wire) else {
            return total;
        };
        let (number, wire_type) = (tag >> 3, tag & 7);
        if wire_type == LENGTH_DELIMITED {
            let Some(body) = length_delimited(&mut wire) else {
                return total;
            };
            if let Some(field) = schema.field(number) {
                total = total.saturating_add(field.element_bytes as u64);
                if let Some(nested) = field.nested {
                    total = total.saturating_add(message_bytes(nested, body, depth + 1));
                }
            }
        } else if skip(wire_type, &mut wire).is_none() {
            return total;
        }
    }
    total
}

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LENGTH_DELIMITED: u64 = 2;
const START_GROUP: u64 = 3;
const END_GROUP: u64 = 4;
const FIXED32: u64 = 5;

/// Skips one field's value of `wire_type` (a whole group, however nested, without
/// recursion); `None` when the input is malformed.
fn skip(wire_type: u64, wire: &mut &[u8]) -> Option<()> {
    let mut groups = 0_u64;
    let mut wire_type = wire_type;
    loop {
        match wire_type {
            VARINT => {
                varint(wire)?;
            }
            FIXED64 => advance(wire, 8)?,
            LENGTH_DELIMITED => {
                length_delimited(wire)?;
            }
            START_GROUP => groups += 1,
            END_GROUP => groups = groups.checked_sub(1)?,
            FIXED32 => advance(wire, 4)?,
            _ => return None,
        }
        if groups == 0 {
            return Some(());
        }
        wire_type = varint(wire)? & 7;
    }
}

fn length_delimited<'a>(wire: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(varint(wire)?).ok()?;
    let body = wire.get(..len)?;
    *wire = &wire[len..];
    Some(body)
}

fn advance(wire: &mut &[u8], len: usize) -> Option<()> {
    *wire = wire.get(len..)?;
    Some(())
}

fn varint(wire: &mut &[u8]) -> Option<u64> {
    let mut value = 0_u64;
    for (i, byte) in wire.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *wire = &wire[i + 1..];
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn statement(values: usize) -> pb::Statement {
        pb::Statement {
            sql: "INSERT INTO t (x) VALUES (?)".into(),
            values: vec![
                pb::Value {
                    value: Some(pb::value::Value::BigInt(7)),
                };
                values
            ],
            values_present: true,
        }
    }

    fn request(operation: pb::forward_request::Operation) -> Vec<u8> {
        pb::ForwardRequest {
            request_id: vec![1; 16],
            operation: Some(operation),
            origin: "node-2".into(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    fn size<T>(n: usize) -> u64 {
        (n * size_of::<T>()) as u64
    }

    #[test]
    fn counts_values_of_a_statement() {
        let wire = request(pb::forward_request::Operation::Execute(statement(1_000)));
        assert_eq!(decoded_bytes(&wire), size::<pb::Value>(1_000));
    }

    fn array(elements: Vec<pb::Value>) -> pb::Value {
        pb::Value {
            value: Some(pb::value::Value::Array(pb::ArrayValue {
                element: pb::ValueKind::BigInt as i32,
                enum_type: None,
                null: false,
                elements,
            })),
        }
    }

    #[test]
    fn counts_the_elements_of_arrays_at_any_depth() {
        let element = pb::Value {
            value: Some(pb::value::Value::BigInt(7)),
        };
        let mut s = statement(2);
        s.values.push(array(vec![element.clone(); 1_000]));
        let wire = request(pb::forward_request::Operation::Execute(s.clone()));
        assert_eq!(decoded_bytes(&wire), size::<pb::Value>(3 + 1_000));
        // Nested arrays are refused after decoding, but prost allocates them first: the
        // walk counts every level.
        let nested = array(vec![array(vec![element; 10]); 10]);
        s.values.push(nested);
        let wire = request(pb::forward_request::Operation::Execute(s));
        assert_eq!(
            decoded_bytes(&wire),
            size::<pb::Value>(3 + 1_000 + 1 + 10 + 100)
        );
    }

    #[test]
    fn a_deeply_nested_array_is_walked_no_deeper_than_prost_decodes() {
        let mut v = pb::Value {
            value: Some(pb::value::Value::BigInt(7)),
        };
        for _ in 0..500 {
            v = array(vec![v]);
        }
        let mut s = statement(0);
        s.values.push(v);
        let wire = request(pb::forward_request::Operation::Execute(s));
        let counted = decoded_bytes(&wire);
        assert!(
            counted <= size::<pb::Value>(MAX_DEPTH as usize),
            "{counted}"
        );
        assert!(
            pb::ForwardRequest::decode(wire.as_slice()).is_err(),
            "prost refuses it"
        );
    }

    #[test]
    fn counts_a_query_s_values_and_shape_columns() {
        let wire = request(pb::forward_request::Operation::Query(pb::Query {
            statement: Some(statement(3)),
            shape: Some(pb::Shape {
                columns: vec![pb::ColumnKind::default(); 5],
            }),
            fetch_one: false,
        }));
        assert_eq!(
            decoded_bytes(&wire),
            size::<pb::Value>(3) + size::<pb::ColumnKind>(5)
        );
    }

    #[test]
    fn counts_batch_steps_and_what_they_hold() {
        let step = pb::BatchStep {
            name: "s".into(),
            statement: Some(statement(2)),
            returns_rows: true,
            shape: Some(pb::Shape {
                columns: vec![pb::ColumnKind::default(); 1],
            }),
            require_row: false,
        };
        let wire = request(pb::forward_request::Operation::Batch(pb::Batch {
            steps: vec![step; 10],
        }));
        assert_eq!(
            decoded_bytes(&wire),
            size::<pb::BatchStep>(10) + size::<pb::Value>(20) + size::<pb::ColumnKind>(10)
        );
    }

    #[test]
    fn empty_elements_are_counted_at_their_decoded_size() {
        // 2 bytes each on the wire: field 1 of Batch (steps), length 0.
        let steps = [0x0a_u8, 0x00].repeat(100_000);
        let mut wire = vec![0x3a]; // field 7 (batch), length-delimited
        let mut len = steps.len();
        while len >= 0x80 {
            wire.push((len as u8) | 0x80);
            len >>= 7;
        }
        wire.push(len as u8);
        wire.extend_from_slice(&steps);
        assert_eq!(decoded_bytes(&wire), size::<pb::BatchStep>(100_000));
        // prost agrees on the count.
        let decoded = pb::ForwardRequest::decode(wire.as_slice()).expect("decodes");
        match decoded.operation {
            Some(pb::forward_request::Operation::Batch(b)) => assert_eq!(b.steps.len(), 100_000),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn repeated_occurrences_of_one_message_field_add_up() {
        // prost merges a message field that appears twice, appending repeated fields.
        let mut wire = request(pb::forward_request::Operation::Execute(statement(2)));
        wire.extend(request(pb::forward_request::Operation::Execute(statement(
            3,
        ))));
        assert_eq!(decoded_bytes(&wire), size::<pb::Value>(5));
        let decoded = pb::ForwardRequest::decode(wire.as_slice()).expect("decodes");
        match decoded.operation {
            Some(pb::forward_request::Operation::Execute(s)) => assert_eq!(s.values.len(), 5),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn groups_are_skipped_and_what_follows_is_counted() {
        // field 13 start-group, a varint inside, a nested group (14), end-groups; then a
        // statement.
        let mut wire = vec![
            (13 << 3) | 3,
            0x08,
            0x01,
            (14 << 3) | 3,
            (14 << 3) | 4,
            (13 << 3) | 4,
        ];
        wire.extend(request(pb::forward_request::Operation::Execute(statement(
            4,
        ))));
        assert_eq!(decoded_bytes(&wire), size::<pb::Value>(4));
        assert!(pb::ForwardRequest::decode(wire.as_slice()).is_ok());
    }

    #[test]
    fn malformed_input_never_panics() {
        for wire in [
            &[0xff_u8; 11][..],
            &[0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f][..],
            &[0x3a, 0x05, 0x0a][..],
            &[(15 << 3) | 4][..],
            &[(15 << 3) | 3][..],
            &[0x0e][..],
        ] {
            let _ = decoded_bytes(wire);
        }
    }

    /// The exact bytes of repeated elements in a decoded request.
    fn exact(request: &pb::ForwardRequest) -> u64 {
        fn elements(v: &pb::Value) -> usize {
            match &v.value {
                Some(pb::value::Value::Array(a)) => {
                    a.elements.len() + a.elements.iter().map(elements).sum::<usize>()
                }
                _ => 0,
            }
        }
        let count =
            |s: &pb::Statement| s.values.len() + s.values.iter().map(elements).sum::<usize>();
        let values = |s: &Option<pb::Statement>| s.as_ref().map_or(0, count);
        let columns = |s: &Option<pb::Shape>| s.as_ref().map_or(0, |s| s.columns.len());
        use pb::forward_request::Operation as O;
        match &request.operation {
            None | Some(O::Transaction(_)) => 0,
            Some(O::Execute(s)) => size::<pb::Value>(count(s)),
            Some(O::Query(q)) => {
                size::<pb::Value>(values(&q.statement)) + size::<pb::ColumnKind>(columns(&q.shape))
            }
            Some(O::Batch(b)) => b
                .steps
                .iter()
                .map(|step| {
                    size::<pb::BatchStep>(1)
                        + size::<pb::Value>(values(&step.statement))
                        + size::<pb::ColumnKind>(columns(&step.shape))
                })
                .sum(),
        }
    }

    fn any_statement() -> impl Strategy<Value = Option<pb::Statement>> {
        let arrays = proptest::collection::vec((0..20_usize, 0..3_usize), 0..3);
        proptest::option::of((0..40_usize, any::<bool>(), arrays).prop_map(
            |(n, present, arrays)| {
                let mut s = statement(n);
                s.values_present = present;
                for (len, depth) in arrays {
                    let mut v = array(statement(len).values);
                    for _ in 0..depth {
                        v = array(vec![v; 2]);
                    }
                    s.values.push(v);
                }
                s
            },
        ))
    }

    fn any_shape() -> impl Strategy<Value = Option<pb::Shape>> {
        proptest::option::of((0..20_usize).prop_map(|n| pb::Shape {
            columns: vec![
                pb::ColumnKind {
                    column: "c".into(),
                    kind: 4,
                    array: false,
                };
                n
            ],
        }))
    }

    fn any_request() -> impl Strategy<Value = pb::ForwardRequest> {
        use pb::forward_request::Operation as O;
        let step = (any_statement(), any_shape()).prop_map(|(statement, shape)| pb::BatchStep {
            name: "step".into(),
            statement,
            returns_rows: shape.is_some(),
            shape,
            require_row: false,
        });
        let operation = prop_oneof![
            (0..50_usize).prop_map(|n| O::Execute(statement(n))),
            any_statement().prop_filter_map("a statement", |s| s.map(O::Execute)),
            (any_statement(), any_shape()).prop_map(|(statement, shape)| O::Query(pb::Query {
                statement,
                shape,
                fetch_one: false
            })),
            proptest::collection::vec(step, 0..30).prop_map(|steps| O::Batch(pb::Batch { steps })),
            Just(O::Transaction(pb::NamedTransaction {
                name: "t".into(),
                args: b"{}".to_vec()
            })),
        ];
        proptest::option::of(operation).prop_map(|operation| pb::ForwardRequest {
            request_id: vec![9; 16],
            operation,
            origin: "n".into(),
            ..Default::default()
        })
    }

    use proptest::prelude::*;

    proptest! {
        /// On every well-formed request the walk counts exactly what prost allocates.
        #[test]
        fn the_walk_counts_what_prost_decodes(request in any_request()) {
            let wire = request.encode_to_vec();
            prop_assert_eq!(decoded_bytes(&wire), exact(&request));
        }

        /// Damaged encodings never panic the walk, and whatever prost still decodes from
        /// them was counted.
        #[test]
        fn damaged_input_is_never_undercounted(
            request in any_request(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3_u8), 1..6),
        ) {
            let mut wire = request.encode_to_vec();
            for (at, byte, kind) in edits {
                if wire.is_empty() {
                    wire.push(byte);
                    continue;
                }
                let i = at.index(wire.len());
                match kind {
                    0 => wire[i] = byte,
                    1 => wire.insert(i, byte),
                    _ => { wire.remove(i); }
                }
            }
            let counted = decoded_bytes(&wire);
            if let Ok(decoded) = pb::ForwardRequest::decode(wire.as_slice()) {
                prop_assert!(counted >= exact(&decoded), "{} < {}", counted, exact(&decoded));
            }
        }
    }
}
