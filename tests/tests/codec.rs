//! The one wire format's edges: every value survives `WireValue` (the checked form both the
//! protocol and the database go through); malformed outcomes and values are refused.

use proptest::prelude::*;
use repo_core::spi::WireValue;
use repo_litefs::convert::decode_outcome;
use repo_litefs::proto as pb;
use repo_tests::strategies::{same, value};
use sea_orm::Value;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_value_round_trips_with_its_exact_type(v in value()) {
        let wire = WireValue::try_from(&v).expect("encodable");
        let decoded = Value::try_from(wire).expect("decodable");
        prop_assert!(same(&v, &decoded), "{v:?} became {decoded:?}");
        prop_assert_eq!(std::mem::discriminant(&v), std::mem::discriminant(&decoded));
    }
}

#[test]
fn a_row_with_more_values_than_columns_is_refused() {
    let int = |v| pb::Value {
        value: Some(pb::value::Value::Int(v)),
    };
    let outcome = pb::Outcome {
        outcome: Some(pb::outcome::Outcome::Rows(pb::Rows {
            rows: vec![pb::Row {
                columns: vec!["a".into()],
                values: vec![int(1), int(2)],
            }],
        })),
    };
    assert!(decode_outcome(outcome).is_err());
}

#[test]
fn invalid_decimals_are_refused() {
    let mut bytes = rust_decimal::Decimal::new(1, 2).serialize();
    bytes[2] = 200; // scale 200
    let err = Value::try_from(WireValue::Decimal(Some(bytes))).expect_err("invalid scale");
    assert!(err.to_string().contains("decimal"));
}
