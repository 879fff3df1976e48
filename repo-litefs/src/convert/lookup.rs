//! Outcome lookups: `ledger::WriteOutcome` ⇄ `pb::LookupResponse`.

use repo_core::Response;

use super::{ConvertError, decode_outcome, encode_outcome};
use crate::ledger::WriteOutcome;
use crate::proto as pb;

/// Encodes what became of a write.
pub(crate) fn encode_lookup(outcome: &WriteOutcome) -> Result<pb::LookupResponse, ConvertError> {
    let (state, outcome) = match outcome {
        WriteOutcome::Committed(response) => (
            pb::LookupState::Committed,
            Some(encode_outcome(&response.outcome)?),
        ),
        WriteOutcome::CommittedAnswerUnknown => (pb::LookupState::CommittedAnswerUnknown, None),
        WriteOutcome::NotCommitted => (pb::LookupState::NotCommitted, None),
        WriteOutcome::Unknown => (pb::LookupState::Unknown, None),
    };
    Ok(pb::LookupResponse {
        state: state as i32,
        outcome,
    })
}

/// Decodes a lookup's answer.
pub(crate) fn decode_lookup(message: pb::LookupResponse) -> Result<WriteOutcome, ConvertError> {
    match pb::LookupState::try_from(message.state) {
        Ok(pb::LookupState::Committed) => {
            let outcome = message
                .outcome
                .ok_or_else(|| ConvertError::missing("outcome"))?;
            Ok(WriteOutcome::Committed(Response::new(decode_outcome(
                outcome,
            )?)))
        }
        Ok(pb::LookupState::CommittedAnswerUnknown) => Ok(WriteOutcome::CommittedAnswerUnknown),
        Ok(pb::LookupState::NotCommitted) => Ok(WriteOutcome::NotCommitted),
        Ok(pb::LookupState::Unknown) => Ok(WriteOutcome::Unknown),
        Ok(pb::LookupState::Unspecified) | Err(_) => Err(ConvertError(format!(
            "unknown lookup state {}",
            message.state
        ))),
    }
}
