//! Property tests of the gRPC protocol: every value type (PostgreSQL arrays of each
//! included), whole requests and outcomes survive the protobuf messages with their exact
//! types; arbitrary bytes never make request decoding panic; malformed arrays are refused
//! with a clear error.

use proptest::prelude::*;
use prost::Message;
use repo_core::{Action, ExecSummary, Fetch, Outcome, Request, Row};
use repo_litefs::convert::{
    decode_outcome, decode_request, decode_value, encode_outcome, encode_request, encode_value,
};
use repo_litefs::proto as pb;
use repo_tests::strategies::{
    array_parameter, array_value, operation, same, same_operation, shape, statement, value,
};
use sea_orm::sea_query::ArrayType;
use sea_orm::{DbBackend, Statement, Value};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_value_round_trips_through_protobuf(v in value()) {
        let message = encode_value(&v).expect("encodable");
        let bytes = message.encode_to_vec();
        let back = decode_value(pb::Value::decode(bytes.as_slice()).expect("decode")).expect("valid");
        prop_assert!(same(&v, &back), "{v:?} became {back:?}");
        prop_assert_eq!(std::mem::discriminant(&v), std::mem::discriminant(&back));
    }

    #[test]
    fn every_array_round_trips_through_protobuf(v in array_value()) {
        let message = encode_value(&v).expect("encodable");
        let bytes = message.encode_to_vec();
        let back = decode_value(pb::Value::decode(bytes.as_slice()).expect("decode")).expect("valid");
        prop_assert!(same(&v, &back), "{v:?} became {back:?}");
        let (Value::Array(ty, values), Value::Array(back_ty, back_values)) = (&v, &back) else {
            return Err(TestCaseError::fail(format!("not an array: {back:?}")));
        };
        prop_assert_eq!(ty, back_ty);
        prop_assert_eq!(values.is_none(), back_values.is_none(), "NULL stays NULL");
    }

    #[test]
    fn array_parameters_round_trip_in_requests(values in prop::collection::vec(array_parameter(), 1..4)) {
        let stmt = Statement::from_sql_and_values(DbBackend::Postgres, "UPDATE t SET xs = $1", values);
        let request = Request::new(Action::Execute, "t", repo_core::Operation::Execute(stmt.clone()));
        let bytes = encode_request(&request, "node-2").expect("encode").encode_to_vec();
        let back = decode_request(pb::ForwardRequest::decode(bytes.as_slice()).expect("protobuf")).expect("valid");
        let repo_core::Operation::Execute(back) = back.operation else {
            return Err(TestCaseError::fail("not a statement"));
        };
        let (sent, got) = (stmt.values.expect("values").0, back.values.expect("values").0);
        prop_assert_eq!(sent.len(), got.len());
        prop_assert!(sent.iter().zip(&got).all(|(a, b)| same(a, b)), "{:?} became {:?}", sent, got);
    }

    #[test]
    fn requests_round_trip_through_protobuf(stmt in statement(), shape in shape(), name in "[a-z_.0-9]{1,20}", args in prop::collection::vec(any::<u8>(), 0..32), which in 0u8..4, fetch_one in any::<bool>()) {
        let fetch = if fetch_one { Fetch::One } else { Fetch::All };
        let operation = operation(which, &stmt, &shape, fetch, &name, &args);
        let request = Request::new(Action::Transaction(name.clone()), name.clone(), operation);
        let bytes = encode_request(&request, "node-2").expect("encode").encode_to_vec();
        let back = decode_request(pb::ForwardRequest::decode(bytes.as_slice()).expect("protobuf")).expect("valid");
        prop_assert_eq!(back.id, request.id);
        prop_assert_eq!(&back.action, &request.action);
        prop_assert_eq!(&back.target, &request.target);
        prop_assert!(
            same_operation(&request.operation, &back.operation),
            "{:?} became {:?}",
            request.operation,
            back.operation
        );
    }

    #[test]
    fn outcomes_round_trip_through_protobuf(rows in prop::collection::vec(prop::collection::vec(("[a-z]{1,8}", value()), 0..6), 0..4), affected in any::<u64>(), id in any::<u64>(), output in prop::collection::vec(any::<u8>(), 0..16)) {
        let rows: Vec<Row> = rows.into_iter().map(|cols| {
            let (columns, values) = cols.into_iter().unzip();
            Row { columns, values }
        }).collect();
        let outcome = Outcome::Batch(vec![
            Outcome::Rows(rows.clone()),
            Outcome::Executed(ExecSummary { rows_affected: affected, last_insert_id: id }),
            Outcome::Transaction(output.clone()),
        ]);
        let bytes = encode_outcome(&outcome).expect("encode").encode_to_vec();
        let back = decode_outcome(pb::Outcome::decode(bytes.as_slice()).expect("protobuf")).expect("valid");
        let Outcome::Batch(parts) = back else { panic!("not a batch") };
        let Outcome::Rows(back_rows) = &parts[0] else { panic!("not rows") };
        prop_assert_eq!(back_rows.len(), rows.len());
        for (a, b) in rows.iter().zip(back_rows) {
            prop_assert_eq!(&a.columns, &b.columns);
            prop_assert!(a.values.iter().zip(&b.values).all(|(x, y)| same(x, y)));
        }
        prop_assert_eq!(&parts[1], &Outcome::Executed(ExecSummary { rows_affected: affected, last_insert_id: id }));
        prop_assert_eq!(&parts[2], &Outcome::Transaction(output));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(message) = pb::ForwardRequest::decode(bytes.as_slice()) {
            let _ = decode_request(message);
        }
        if let Ok(message) = pb::Outcome::decode(bytes.as_slice()) {
            let _ = decode_outcome(message);
        }
    }

    #[test]
    fn decoding_arbitrary_messages_never_panics(kind in any::<i32>(), n in any::<u32>(), secs in any::<i64>(), nanos in any::<u32>(), id in prop::collection::vec(any::<u8>(), 0..20), b in prop::collection::vec(any::<u8>(), 0..20)) {
        use pb::value::Value as V;
        for v in [
            V::Null(kind), V::TinyInt(kind), V::SmallInt(kind), V::TinyUnsigned(n), V::SmallUnsigned(n), V::Char(n),
            V::ChronoDate(kind), V::TimeDate(kind),
            V::ChronoTime(pb::TimeOfDay { seconds: n, nanos }), V::TimeTime(pb::TimeOfDay { seconds: n, nanos }),
            V::ChronoDateTime(pb::Instant { seconds: secs, nanos }),
            V::ChronoDateTimeWithTimeZone(pb::ZonedInstant { instant: Some(pb::Instant { seconds: secs, nanos }), offset_seconds: kind }),
            V::TimeDateTimeWithTimeZone(pb::ZonedInstant { instant: Some(pb::Instant { seconds: secs, nanos }), offset_seconds: kind }),
            V::TimeDateTime(pb::DateAndTime { julian_day: kind, time: None }),
            V::Uuid(b.clone()), V::Decimal(b.clone()), V::Json(String::from_utf8_lossy(&b).into_owned()),
        ] {
            let _ = decode_value(pb::Value { value: Some(v) });
        }
        let request = pb::ForwardRequest { request_id: id, action: pb::Action::Insert as i32, operation: None, consistency: kind, ..Default::default() };
        let _ = decode_request(request);
    }
}

fn element(v: pb::value::Value) -> pb::Value {
    pb::Value { value: Some(v) }
}

fn ints(elements: Vec<pb::Value>) -> pb::ArrayValue {
    pb::ArrayValue {
        element: pb::ValueKind::Int as i32,
        enum_type: None,
        null: false,
        elements,
    }
}

/// Every malformed array a peer can send is refused while decoding, with a message that
/// says what is wrong, and nothing panics.
#[test]
fn malformed_arrays_are_refused_with_a_clear_error() {
    use pb::value::Value as V;
    let one = || element(V::Int(1));
    let cases: Vec<(&str, pb::ArrayValue, &str)> = vec![
        (
            "an array of arrays",
            ints(vec![element(V::Array(ints(vec![one()])))]),
            "arrays do not nest",
        ),
        (
            "an element of another type",
            ints(vec![one(), element(V::String("x".into()))]),
            "not of the array's element type",
        ),
        (
            "an element without a value",
            ints(vec![pb::Value { value: None }]),
            "missing",
        ),
        (
            "a NULL array with elements",
            pb::ArrayValue {
                null: true,
                ..ints(vec![one()])
            },
            "NULL array with elements",
        ),
        (
            "no element type",
            pb::ArrayValue {
                element: 0,
                ..ints(vec![])
            },
            "NULL without a kind",
        ),
        (
            "an unknown element type",
            pb::ArrayValue {
                element: 999,
                ..ints(vec![])
            },
            "unknown value kind",
        ),
        (
            "both an element kind and an enum type",
            pb::ArrayValue {
                enum_type: Some("mood".into()),
                ..ints(vec![])
            },
            "both an element kind and an enum type",
        ),
        (
            "an enum array holding an integer",
            pb::ArrayValue {
                element: 0,
                enum_type: Some("mood".into()),
                ..ints(vec![one()])
            },
            "not of the array's element type",
        ),
        (
            "an element out of its bounds",
            pb::ArrayValue {
                element: pb::ValueKind::ChronoDate as i32,
                ..ints(vec![element(V::ChronoDate(i32::MAX))])
            },
            "date out of range",
        ),
    ];
    for (what, array, expected) in cases {
        let bytes = element(V::Array(array)).encode_to_vec();
        let decoded = pb::Value::decode(bytes.as_slice()).expect("protobuf");
        let err = decode_value(decoded).expect_err(what);
        assert!(err.to_string().contains(expected), "{what}: {err}");
    }
    // A NULL element is a value (a row may hold one), not a parameter.
    let with_null = element(V::Array(ints(vec![
        one(),
        element(V::Null(pb::ValueKind::Int as i32)),
    ])));
    assert!(decode_value(with_null.clone()).is_ok());
    let err = repo_litefs::convert::decode_parameter(with_null).expect_err("a NULL element");
    assert!(err.to_string().contains("NULL element"), "{err}");
    // Nested a thousand levels deep: prost refuses it, no stack overflow.
    let mut deep = one();
    for _ in 0..1_000 {
        deep = element(V::Array(ints(vec![deep])));
    }
    assert!(pb::Value::decode(deep.encode_to_vec().as_slice()).is_err());
    // Locally, an array of arrays is refused before it is sent.
    let nested = Value::Array(
        ArrayType::Int,
        Some(Box::new(vec![Value::Array(
            ArrayType::Int,
            Some(Box::new(vec![1.into()])),
        )])),
    );
    let err = encode_value(&nested).expect_err("nested");
    assert!(
        err.to_string().contains("not of the array's element type"),
        "{err}"
    );
}

/// A huge array is weighed before it is decoded and refused as too large once decoded.
#[test]
fn a_huge_array_is_refused_by_the_decode_budget() {
    use repo_litefs::decode_budget::DecodeBudget;
    // 2 bytes per element on the wire (an empty `Value`), ~50 in memory.
    let elements = vec![pb::Value { value: None }; 1_000_000];
    let request = pb::ForwardRequest {
        request_id: vec![1; 16],
        action: pb::Action::Execute as i32,
        operation: Some(pb::forward_request::Operation::Execute(pb::Statement {
            sql: "UPDATE t SET xs = $1".into(),
            values: vec![element(pb::value::Value::Array(ints(elements)))],
            values_present: true,
        })),
        ..Default::default()
    };
    let wire = request.encode_to_vec();
    assert!(
        wire.len() < 3 * 1024 * 1024,
        "{} bytes on the wire",
        wire.len()
    );
    let status = <pb::ForwardRequest as DecodeBudget>::check_budget(&wire).expect_err("too large");
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert!(status.message().contains("decoded"), "{}", status.message());
}
