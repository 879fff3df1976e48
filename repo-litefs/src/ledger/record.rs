//! What a ledger row holds: the write's outcome as a protobuf `litefs.forward.v1.Outcome`,
//! the very message the primary answers with, so the ledger and the wire share one format.
//!
//! A row that does not decode is *unreadable*, never a panic: the write it records
//! committed (the row is written in its transaction), but what it returned is unknown.
//! Rows written before the ledger stored protobuf (a postcard encoding, through version
//! 0.1 of this crate) are always unreadable: their first byte is a postcard variant index
//! (0 to 3), which protobuf reads as field number 0, an error. The ledger is pruned after
//! its retention (24 h by default), so such rows only meet a retry that spans the upgrade.

use prost::Message;
use repo_core::{RepoError, Response};

use crate::convert::{decode_outcome, encode_outcome};
use crate::proto as pb;

/// The bytes stored for `response`.
pub(crate) fn encode_record(response: &Response) -> Result<Vec<u8>, RepoError> {
    Ok(encode_outcome(&response.outcome)?.encode_to_vec())
}

/// The response a row recorded, or `None` when its bytes are not a valid outcome (an older
/// format, or damage).
pub(crate) fn decode_record(bytes: &[u8]) -> Option<Response> {
    let message = pb::Outcome::decode(bytes).ok()?;
    decode_outcome(message).ok().map(Response::new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use repo_core::{ExecSummary, Outcome, Row};

    #[test]
    fn outcomes_round_trip() {
        let outcome = Outcome::Batch(vec![
            Outcome::Executed(ExecSummary {
                rows_affected: 1,
                last_insert_id: 7,
            }),
            Outcome::Rows(vec![Row {
                columns: vec!["id".into()],
                values: vec![sea_orm::Value::BigInt(Some(5))],
            }]),
            Outcome::Transaction(b"null".to_vec()),
        ]);
        let bytes = encode_record(&Response::new(outcome.clone())).expect("encode");
        assert_eq!(decode_record(&bytes).map(|r| r.outcome), Some(outcome));
    }

    /// Rows as the postcard codec of 0.1 wrote them: unreadable, not misread.
    #[test]
    fn rows_of_the_older_postcard_format_are_unreadable() {
        let old_rows: [&[u8]; 5] = [
            // Executed { rows_affected: 1, last_insert_id: 7 }
            &[0x00, 0x01, 0x07],
            // Rows([{ id: BigInt(5) }])
            &[0x01, 0x01, 0x01, 0x02, b'i', b'd', 0x01, 0x04, 0x01, 0x0a],
            // Transaction(b"null")
            &[0x02, 0x04, b'n', b'u', b'l', b'l'],
            // Batch([Executed { 0, 0 }])
            &[0x03, 0x01, 0x00, 0x00, 0x00],
            // Nothing at all.
            &[],
        ];
        for bytes in old_rows {
            assert!(decode_record(bytes).is_none(), "{bytes:?} was read");
        }
    }

    proptest! {
        #[test]
        fn no_postcard_outcome_is_ever_read_as_one(first in 0u8..4, rest in prop::collection::vec(any::<u8>(), 0..256)) {
            let mut bytes = vec![first];
            bytes.extend(rest);
            prop_assert!(decode_record(&bytes).is_none());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_record(&bytes);
        }
    }
}
