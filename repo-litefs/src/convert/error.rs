//! Errors: `RepoError` ⇄ `tonic::Status` with a `pb::ForwardError` in its details.
//!
//! The status code says what the caller can do (`FAILED_PRECONDITION`: not the primary;
//! `INVALID_ARGUMENT`: a refused request; `ABORTED`: the database refused the write;
//! `DEADLINE_EXCEEDED`; `UNAUTHENTICATED`; `OUT_OF_RANGE` for a message too large;
//! `RESOURCE_EXHAUSTED` for a write interrupted at the maximum statement time; `INTERNAL`
//! for a panic on the primary; `UNAVAILABLE`), the
//! message says it in words, and the details carry the structure the replica needs to
//! rebuild the very error the primary saw.

use prost::Message;
use repo_core::{CommitState, RepoError};
use tonic::{Code, Status};

use super::db_err::{decode_db_err, encode_db_err};
use crate::proto as pb;

fn commit(state: CommitState) -> pb::CommitState {
    match state {
        CommitState::NotCommitted => pb::CommitState::NotCommitted,
        CommitState::Unknown => pb::CommitState::Unknown,
        CommitState::Committed => pb::CommitState::Committed,
    }
}

fn forward_error(err: &RepoError) -> Option<pb::forward_error::Error> {
    use pb::forward_error::Error as E;
    Some(match err {
        RepoError::Database(e) => E::Database(encode_db_err(e)),
        RepoError::UnknownTransaction(name) => E::UnknownTransaction(name.clone()),
        RepoError::TransactionFailed { name, source } => {
            E::TransactionFailed(pb::TransactionFailed {
                name: name.clone(),
                error: Some(encode_db_err(source)),
            })
        }
        RepoError::MultiStep { step, source } => E::MultiStep(Box::new(pb::MultiStepFailed {
            step: step.clone(),
            error: forward_error(source).map(|e| Box::new(pb::ForwardError { error: Some(e) })),
        })),
        RepoError::NotPrimary { primary } => E::NotPrimary(pb::NotPrimary {
            primary: primary.clone(),
        }),
        RepoError::Rejected { reason } => E::Refused(reason.clone()),
        RepoError::Timeout { commit: c } => E::Timeout(commit(*c) as i32),
        RepoError::Codec(m) => E::Codec(m.clone()),
        RepoError::InvalidRequest(m) => E::InvalidRequest(m.clone()),
        RepoError::MultipleResults => E::MultipleResults(true),
        RepoError::Interrupted { limit } => {
            E::InterruptedAfterMs(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
        }
        RepoError::Internal { message } => E::Internal(message.clone()),
        RepoError::MaybeCommitted { last } => E::MaybeCommitted(Box::new(pb::MaybeCommitted {
            last: forward_error(last).map(|e| Box::new(pb::ForwardError { error: Some(e) })),
        })),
        // Failures of this node's own layers never come from the executor it serves.
        RepoError::ReplicationLag { .. }
        | RepoError::CircuitOpen { .. }
        | RepoError::PrimaryUnavailable { .. }
        | RepoError::Unreachable { .. } => return None,
        _ => return None,
    })
}

fn code(err: &RepoError) -> Code {
    match err {
        RepoError::Database(_)
        | RepoError::TransactionFailed { .. }
        | RepoError::MultiStep { .. } => Code::Aborted,
        RepoError::NotPrimary { .. } => Code::FailedPrecondition,
        RepoError::UnknownTransaction(_)
        | RepoError::Rejected { .. }
        | RepoError::Codec(_)
        | RepoError::InvalidRequest(_)
        | RepoError::MultipleResults => Code::InvalidArgument,
        RepoError::Timeout { .. } => Code::DeadlineExceeded,
        RepoError::Interrupted { .. } => Code::ResourceExhausted,
        RepoError::Internal { .. } => Code::Internal,
        _ => Code::Unavailable,
    }
}

/// The status a server answers `err` with.
pub fn status_from_error(err: &RepoError) -> Status {
    let details = forward_error(err)
        .map(|e| pb::ForwardError { error: Some(e) }.encode_to_vec())
        .unwrap_or_default();
    Status::with_details(code(err), err.to_string(), details.into())
}

/// Rebuilds the error a status from `node` stands for. A status without details (from
/// the transport, an interceptor, or a message-size check) is mapped by its code.
pub async fn error_from_status(status: &Status, node: &str) -> RepoError {
    if let Ok(pb::ForwardError { error: Some(e) }) = pb::ForwardError::decode(status.details()) {
        return decode_error(e).await;
    }
    let message = status.message().to_owned();
    match status.code() {
        Code::Unauthenticated
        | Code::PermissionDenied
        | Code::InvalidArgument
        | Code::ResourceExhausted
        | Code::OutOfRange => RepoError::Rejected {
            reason: format!("{:?}: {message}", status.code()),
        },
        Code::DeadlineExceeded => RepoError::Timeout {
            commit: CommitState::Unknown,
        },
        // The connection could not be made: nothing was sent.
        Code::Unavailable if is_connect_failure(status) => RepoError::Unreachable {
            node: node.to_owned(),
            message,
            commit: CommitState::NotCommitted,
        },
        _ => RepoError::Unreachable {
            node: node.to_owned(),
            message,
            commit: CommitState::Unknown,
        },
    }
}

/// Whether a transport failure happened before the request could be sent.
fn is_connect_failure(status: &Status) -> bool {
    let source = std::error::Error::source(status)
        .map(|e| format!("{e:?}"))
        .unwrap_or_default();
    let text = format!("{} {source}", status.message()).to_ascii_lowercase();
    // "tcp connect error", "connection refused", "dns error": nothing was sent. A reset or
    // closed connection may have carried the request already, so it does not count.
    text.contains("tcp connect")
        || text.contains("connection refused")
        || text.contains("dns error")
        || text.contains("failed to connect")
}

fn decode_error(e: pb::forward_error::Error) -> futures::future::BoxFuture<'static, RepoError> {
    use pb::forward_error::Error as E;
    Box::pin(async move {
        match e {
            E::Database(d) => RepoError::Database(decode_db_err(d).await),
            E::UnknownTransaction(name) => RepoError::UnknownTransaction(name),
            E::TransactionFailed(t) => RepoError::TransactionFailed {
                name: t.name,
                source: match t.error {
                    Some(d) => decode_db_err(d).await,
                    None => sea_orm::DbErr::Custom("transaction failed".into()),
                },
            },
            E::MultiStep(m) => {
                let source = match m.error.and_then(|e| e.error) {
                    Some(inner) => decode_error(inner).await,
                    None => RepoError::Codec("multi step error without a cause".into()),
                };
                RepoError::MultiStep {
                    step: m.step,
                    source: Box::new(source),
                }
            }
            E::NotPrimary(n) => RepoError::NotPrimary { primary: n.primary },
            E::Refused(reason) => RepoError::Rejected { reason },
            E::Timeout(c) => RepoError::Timeout {
                commit: match pb::CommitState::try_from(c) {
                    Ok(pb::CommitState::NotCommitted) => CommitState::NotCommitted,
                    Ok(pb::CommitState::Committed) => CommitState::Committed,
                    Ok(pb::CommitState::Unknown) | Err(_) => CommitState::Unknown,
                },
            },
            E::Codec(m) => RepoError::Codec(m),
            E::InvalidRequest(m) => RepoError::InvalidRequest(m),
            E::MultipleResults(_) => RepoError::MultipleResults,
            E::InterruptedAfterMs(ms) => RepoError::Interrupted {
                limit: std::time::Duration::from_millis(ms),
            },
            E::Internal(message) => RepoError::Internal { message },
            E::MaybeCommitted(m) => {
                let last = match m.last.and_then(|e| e.error) {
                    Some(inner) => decode_error(inner).await,
                    None => RepoError::Codec("maybe-committed error without a cause".into()),
                };
                RepoError::MaybeCommitted {
                    last: Box::new(last),
                }
            }
        }
    })
}
