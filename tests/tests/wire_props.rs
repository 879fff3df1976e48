//! Property tests of the gRPC protocol: every value type, whole requests and outcomes
//! survive the protobuf messages with their exact types; arbitrary bytes never make
//! request decoding panic.

use proptest::prelude::*;
use prost::Message;
use repo_core::{Action, ExecSummary, Fetch, Outcome, Request, Row};
use repo_litefs::convert::{
    decode_outcome, decode_request, decode_value, encode_outcome, encode_request, encode_value,
};
use repo_litefs::proto as pb;
use repo_tests::strategies::{operation, same, same_operation, shape, statement, value};

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
