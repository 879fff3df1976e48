//! Errors: `RepoError` ⇄ `tonic::Status` with a `pb::ForwardError` in its details.
//!
//! The status code says what the caller can do, and comes from `repo-core`'s exhaustive
//! classification ([`RepoError::status_class`]), so no error falls into a code by a
//! wildcard here (`FAILED_PRECONDITION`: not the primary, misconfigured;
//! `INVALID_ARGUMENT`: a refused request; `ABORTED`: the database refused the write;
//! `DEADLINE_EXCEEDED`; `UNAUTHENTICATED`; `OUT_OF_RANGE` for a request too large;
//! `RESOURCE_EXHAUSTED` for a write interrupted at the maximum statement time, or on
//! PostgreSQL at its call's deadline; `INTERNAL` for a panic on the primary;
//! `UNAVAILABLE`), the message says it in words, and the details carry the structure the
//! replica needs to rebuild the very error the primary saw, refusals with their typed
//! [`RejectReason`](repo_core::RejectReason).

use prost::Message;
use repo_core::spi::StatusClass;
use repo_core::{CommitState, RejectReason, RepoError, TooLarge};
use tonic::{Code, Status};

use super::db_err::{decode_db_err, encode_db_err};
use super::reject::{decode_rejection, encode_rejection};
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
        RepoError::Rejected { reason } => E::Rejected(encode_rejection(reason)),
        RepoError::Timeout { commit: c } => E::Timeout(commit(*c) as i32),
        RepoError::Codec(m) => E::Codec(m.clone()),
        RepoError::InvalidRequest(m) => E::InvalidRequest(m.clone()),
        RepoError::MultipleResults => E::MultipleResults(true),
        RepoError::Interrupted { limit } => {
            E::InterruptedAfterMs(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
        }
        RepoError::Internal { message } => E::Internal(message.clone()),
        RepoError::IdempotencyConflict => E::IdempotencyConflict(true),
        RepoError::NotReplicated { waited, missing } => E::NotReplicated(pb::NotReplicated {
            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            missing: missing.clone(),
        }),
        RepoError::MaybeCommitted { last } => E::MaybeCommitted(Box::new(pb::MaybeCommitted {
            last: forward_error(last).map(|e| Box::new(pb::ForwardError { error: Some(e) })),
        })),
        RepoError::TransactionExpired { cause } => E::TransactionEnded(encode_end(cause)),
        RepoError::TransactionAborted { primary } => E::TransactionEnded(pb::TransactionEnded {
            cause: Some(pb::transaction_ended::Cause::Aborted(pb::NotPrimary {
                primary: primary.clone(),
            })),
        }),
        // Failures of this node's own layers never come from the executor it serves.
        RepoError::ReplicationLag { .. }
        | RepoError::CircuitOpen { .. }
        | RepoError::PrimaryUnavailable { .. }
        | RepoError::Unreachable { .. } => return None,
        // `RepoError` is non-exhaustive: a variant added to it has no details until it is
        // given a message here; its code still comes from its classification.
        _ => return None,
    })
}

/// The gRPC code of each class, one to one.
fn code(class: StatusClass) -> Code {
    match class {
        StatusClass::Aborted => Code::Aborted,
        StatusClass::FailedPrecondition => Code::FailedPrecondition,
        StatusClass::AlreadyExists => Code::AlreadyExists,
        StatusClass::InvalidArgument => Code::InvalidArgument,
        StatusClass::Unauthenticated => Code::Unauthenticated,
        StatusClass::PermissionDenied => Code::PermissionDenied,
        StatusClass::OutOfRange => Code::OutOfRange,
        StatusClass::DeadlineExceeded => Code::DeadlineExceeded,
        StatusClass::ResourceExhausted => Code::ResourceExhausted,
        StatusClass::Internal => Code::Internal,
        StatusClass::Unavailable => Code::Unavailable,
    }
}

/// The status a server answers `err` with.
pub fn status_from_error(err: &RepoError) -> Status {
    let details = forward_error(err)
        .map(|e| pb::ForwardError { error: Some(e) }.encode_to_vec())
        .unwrap_or_default();
    // The status message travels in an HTTP/2 header and lands in logs: bounded, and with
    // control characters escaped (a database error may quote any identifier it was given).
    // The details carry the error itself.
    let message = crate::allowlist::sanitize(&err.to_string(), STATUS_MESSAGE_CHARS);
    Status::with_details(code(err.status_class()), message, details.into())
}

/// The longest status message sent, in characters.
const STATUS_MESSAGE_CHARS: usize = 512;

/// Rebuilds the error a status from `node` stands for. A status without details (from
/// the transport, the authenticating interceptor, or a message-size check) is mapped by
/// its code: `UNAUTHENTICATED` is [`RejectReason::Unauthenticated`], `OUT_OF_RANGE` is
/// [`TooLarge::Message`], other refusals are untyped.
pub async fn error_from_status(status: &Status, node: &str) -> RepoError {
    let message = status.message().to_owned();
    if let Ok(pb::ForwardError { error: Some(e) }) = pb::ForwardError::decode(status.details()) {
        return decode_error(e, message).await;
    }
    let rejected = |reason| RepoError::Rejected { reason };
    match status.code() {
        Code::Unauthenticated => rejected(RejectReason::Unauthenticated),
        Code::OutOfRange => rejected(RejectReason::TooLarge(TooLarge::Message)),
        Code::PermissionDenied | Code::InvalidArgument | Code::ResourceExhausted => rejected(
            RejectReason::untyped(&format!("{:?}: {message}", status.code())),
        ),
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

/// Rebuilds the error in a status's details; `words` is the status message.
fn decode_error(
    e: pb::forward_error::Error,
    words: String,
) -> futures::future::BoxFuture<'static, RepoError> {
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
                    Some(inner) => decode_error(inner, words).await,
                    None => RepoError::Codec("multi step error without a cause".into()),
                };
                RepoError::MultiStep {
                    step: m.step,
                    source: Box::new(source),
                }
            }
            E::NotPrimary(n) => RepoError::NotPrimary { primary: n.primary },
            E::Refused(reason) => RepoError::Rejected {
                reason: RejectReason::untyped(&reason),
            },
            E::Rejected(r) => RepoError::Rejected {
                reason: decode_rejection(r, &words),
            },
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
            E::IdempotencyConflict(_) => RepoError::IdempotencyConflict,
            E::TransactionEnded(ended) => decode_end(ended),
            E::NotReplicated(n) => RepoError::NotReplicated {
                waited: std::time::Duration::from_millis(n.waited_ms),
                missing: n.missing.into_iter().take(64).collect(),
            },
            E::MaybeCommitted(m) => {
                let last = match m.last.and_then(|e| e.error) {
                    Some(inner) => decode_error(inner, words).await,
                    None => RepoError::Codec("maybe-committed error without a cause".into()),
                };
                RepoError::MaybeCommitted {
                    last: Box::new(last),
                }
            }
        }
    })
}

/// The wire form of why an interactive transaction expired.
fn encode_end(cause: &repo_core::ExpiryCause) -> pb::TransactionEnded {
    use pb::transaction_ended::Cause as C;
    use repo_core::ExpiryCause as X;
    let ms = |d: &std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let cause = match cause {
        X::MaxDuration { limit } => C::MaxDurationMs(ms(limit)),
        X::Idle { limit } => C::IdleMs(ms(limit)),
        X::Disconnected => C::Disconnected(true),
        // `ExpiryCause` is non-exhaustive: a cause added later reads as "already ended".
        _ => C::Closed(true),
    };
    pb::TransactionEnded { cause: Some(cause) }
}

/// Why an interactive transaction ended, from the wire.
fn decode_end(ended: pb::TransactionEnded) -> RepoError {
    use pb::transaction_ended::Cause as C;
    use repo_core::ExpiryCause as X;
    let cause = match ended.cause {
        Some(C::Aborted(n)) => return RepoError::TransactionAborted { primary: n.primary },
        Some(C::MaxDurationMs(ms)) => X::MaxDuration {
            limit: std::time::Duration::from_millis(ms),
        },
        Some(C::IdleMs(ms)) => X::Idle {
            limit: std::time::Duration::from_millis(ms),
        },
        Some(C::Disconnected(_)) => X::Disconnected,
        Some(C::Closed(_)) | None => X::Closed,
    };
    RepoError::TransactionExpired { cause }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database error quoting a hostile identifier: the status message (an HTTP/2 header,
    /// and a log line) stays short and escaped; the details keep the error itself.
    #[test]
    fn status_messages_are_bounded_and_escaped() {
        for name in ["a\u{1b}[31m\nFAKE".to_owned(), "y".repeat(900_000)] {
            let err = RepoError::Database(sea_orm::DbErr::Custom(format!("no such table: {name}")));
            let status = status_from_error(&err);
            let message = status.message();
            assert!(
                message.chars().count() <= STATUS_MESSAGE_CHARS + 1,
                "{}",
                message.len()
            );
            assert!(!message.contains(['\u{1b}', '\n']), "escaped: {message:?}");
            assert!(
                !status.details().is_empty(),
                "the error itself travels in the details"
            );
        }
    }
}
