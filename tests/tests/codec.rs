//! Property tests: every `Value` variant SQLite can store, and whole requests and responses,
//! survive encoding with their exact types; arbitrary bytes never make decoding panic.

use proptest::prelude::*;
use repo_core::codec::{decode_request, decode_response, encode_request, encode_response};
use repo_core::{Action, ExecSummary, Outcome, Request, Response, Row, WireValue};
use repo_tests::strategies::{operation, same, same_operation, shape, statement, value};
use sea_orm::Value;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_value_round_trips_with_its_exact_type(v in value()) {
        let wire = WireValue::try_from(&v).expect("encodable");
        let bytes = postcard::to_stdvec(&wire).expect("serialize");
        let back: WireValue = postcard::from_bytes(&bytes).expect("deserialize");
        let decoded = Value::try_from(back).expect("decodable");
        prop_assert!(same(&v, &decoded), "{v:?} became {decoded:?}");
        prop_assert_eq!(std::mem::discriminant(&v), std::mem::discriminant(&decoded));
    }

    #[test]
    fn requests_round_trip(stmt in statement(), shape in shape(), name in ".{1,20}", args in prop::collection::vec(any::<u8>(), 0..32), which in 0u8..4) {
        let operation = operation(which, &stmt, &shape, repo_core::Fetch::One, &name, &args);
        let request = Request::new(Action::Transaction(name.clone()), name.clone(), operation);
        let back = decode_request(&encode_request(&request).expect("encode")).expect("decode");
        prop_assert_eq!(back.id, request.id);
        prop_assert_eq!(&back.action, &request.action);
        prop_assert_eq!(&back.target, &request.target);
        prop_assert_eq!(back.consistency, request.consistency);
        prop_assert!(
            same_operation(&request.operation, &back.operation),
            "{:?} became {:?}",
            request.operation,
            back.operation
        );
    }

    #[test]
    fn responses_round_trip(rows in prop::collection::vec(prop::collection::vec((".{1,8}", value()), 0..6), 0..4), affected in any::<u64>(), id in any::<u64>(), output in prop::collection::vec(any::<u8>(), 0..16)) {
        let rows: Vec<Row> = rows.into_iter().map(|cols| {
            let (columns, values) = cols.into_iter().unzip();
            Row { columns, values }
        }).collect();
        let response = Response::new(Outcome::Batch(vec![
            Outcome::Rows(rows.clone()),
            Outcome::Executed(ExecSummary { rows_affected: affected, last_insert_id: id }),
            Outcome::Transaction(output.clone()),
        ]));
        let back = decode_response(&encode_response(&response).expect("encode")).expect("decode");
        let Outcome::Batch(parts) = back.outcome else { panic!("not a batch") };
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
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = decode_request(&bytes);
        let _ = decode_response(&bytes);
    }
}

#[test]
fn a_row_with_more_values_than_columns_is_refused() {
    use repo_core::codec::{WireOutcome, WireRow};
    let wire = WireOutcome::Rows(vec![WireRow {
        columns: vec!["a".into()],
        values: vec![WireValue::Int(Some(1)), WireValue::Int(None)],
    }]);
    let bytes = postcard::to_stdvec(&wire).expect("serialize");
    assert!(decode_response(&bytes).is_err());
}

#[test]
fn invalid_decimals_are_refused() {
    let mut bytes = rust_decimal::Decimal::new(1, 2).serialize();
    bytes[2] = 200; // scale 200
    let err = Value::try_from(WireValue::Decimal(Some(bytes))).expect_err("invalid scale");
    assert!(err.to_string().contains("decimal"));
}
