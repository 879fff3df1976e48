//! How every [`RepoError`] is classified: the status a protocol answers it with, whether
//! retrying is safe, whether the write may have committed.
//!
//! Each question is one exhaustive `match` here, beside the enum: a new variant does not
//! compile until it is decided on, so it can never fall into a retryable status by a
//! wildcard in another crate.

use sea_orm::DbErr;

use super::{CommitState, RejectReason, RepoError};

/// The kind of status an error is answered with across a process boundary, named after
/// the canonical gRPC codes (the forwarding protocol maps each to its `tonic::Code`; an
/// HTTP front end can map them as it likes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// The database refused or failed the write (`ABORTED`).
    Aborted,
    /// The receiving node is not in a state to take the call: not the primary, or
    /// misconfigured (`FAILED_PRECONDITION`).
    FailedPrecondition,
    /// The request will not be accepted as it is (`INVALID_ARGUMENT`).
    InvalidArgument,
    /// The request's id was already used for another request (`ALREADY_EXISTS`).
    AlreadyExists,
    /// The caller did not authenticate (`UNAUTHENTICATED`).
    Unauthenticated,
    /// The caller's own policy refused the call (`PERMISSION_DENIED`).
    PermissionDenied,
    /// The request is larger than accepted (`OUT_OF_RANGE`, as tonic's own size check).
    OutOfRange,
    /// A deadline or a bounded wait passed (`DEADLINE_EXCEEDED`).
    DeadlineExceeded,
    /// The write used up a budget: the maximum statement time, or on PostgreSQL the call's
    /// deadline less a margin (`RESOURCE_EXHAUSTED`).
    ResourceExhausted,
    /// The executing node failed internally (`INTERNAL`).
    Internal,
    /// The primary cannot be reached or is going away (`UNAVAILABLE`).
    Unavailable,
}

impl RepoError {
    /// The status this error is answered with across a process boundary.
    pub fn status_class(&self) -> StatusClass {
        match self {
            RepoError::Database(_)
            | RepoError::TransactionFailed { .. }
            | RepoError::MultiStep { .. }
            | RepoError::MaybeCommitted { .. } => StatusClass::Aborted,
            RepoError::NotPrimary { .. } => StatusClass::FailedPrecondition,
            RepoError::UnknownTransaction(_)
            | RepoError::Codec(_)
            | RepoError::InvalidRequest(_)
            | RepoError::MultipleResults => StatusClass::InvalidArgument,
            RepoError::Rejected { reason } => reason.status_class(),
            RepoError::Timeout { .. }
            | RepoError::ReplicationLag { .. }
            | RepoError::NotReplicated { .. } => StatusClass::DeadlineExceeded,
            RepoError::Interrupted { .. } => StatusClass::ResourceExhausted,
            RepoError::Internal { .. } => StatusClass::Internal,
            RepoError::IdempotencyConflict => StatusClass::AlreadyExists,
            RepoError::TransactionExpired { .. } => StatusClass::Aborted,
            RepoError::TransactionAborted { .. } => StatusClass::FailedPrecondition,
            RepoError::PrimaryUnavailable { .. }
            | RepoError::Unreachable { .. }
            | RepoError::CircuitOpen { .. } => StatusClass::Unavailable,
        }
    }

    /// Whether the failed write may have committed despite the error.
    pub fn commit_state(&self) -> CommitState {
        match self {
            RepoError::Timeout { commit } | RepoError::Unreachable { commit, .. } => *commit,
            RepoError::ReplicationLag { .. } | RepoError::NotReplicated { .. } => {
                CommitState::Committed
            }
            RepoError::MaybeCommitted { .. } => CommitState::Unknown,
            // Refused before running, or rolled back.
            RepoError::Database(_)
            | RepoError::UnknownTransaction(_)
            | RepoError::TransactionFailed { .. }
            | RepoError::MultiStep { .. }
            | RepoError::Codec(_)
            | RepoError::InvalidRequest(_)
            | RepoError::MultipleResults
            | RepoError::NotPrimary { .. }
            | RepoError::PrimaryUnavailable { .. }
            | RepoError::Rejected { .. }
            | RepoError::CircuitOpen { .. }
            | RepoError::Interrupted { .. }
            | RepoError::Internal { .. }
            | RepoError::IdempotencyConflict
            | RepoError::TransactionExpired { .. }
            | RepoError::TransactionAborted { .. } => CommitState::NotCommitted,
        }
    }

    /// Whether the failure is transient and the write certainly did not commit, so that
    /// trying again (with the same request id) is safe: a lost or unavailable connection,
    /// a busy database, a timeout that fired before the write was dispatched, a primary
    /// that is not (or no longer, or not yet) there. Constraint violations, refused
    /// requests (but a primary shutting down) and an open circuit are not.
    pub fn is_transient(&self) -> bool {
        match self {
            RepoError::Database(DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) => true,
            RepoError::Database(e) => is_busy(e),
            RepoError::Timeout { commit } | RepoError::Unreachable { commit, .. } => {
                *commit == CommitState::NotCommitted
            }
            RepoError::NotPrimary { .. } | RepoError::PrimaryUnavailable { .. } => true,
            RepoError::Rejected { reason } => reason.is_transient(),
            RepoError::UnknownTransaction(_)
            | RepoError::TransactionFailed { .. }
            | RepoError::MultiStep { .. }
            | RepoError::Codec(_)
            | RepoError::InvalidRequest(_)
            | RepoError::MultipleResults
            | RepoError::ReplicationLag { .. }
            | RepoError::NotReplicated { .. }
            | RepoError::MaybeCommitted { .. }
            | RepoError::CircuitOpen { .. }
            | RepoError::Interrupted { .. }
            | RepoError::Internal { .. }
            | RepoError::IdempotencyConflict
            // A statement alone cannot be retried: the whole transaction must run again.
            | RepoError::TransactionExpired { .. }
            | RepoError::TransactionAborted { .. } => false,
        }
    }
}

impl RejectReason {
    /// The status this refusal is answered with.
    pub fn status_class(&self) -> StatusClass {
        match self {
            RejectReason::Unauthenticated => StatusClass::Unauthenticated,
            RejectReason::Statement(_)
            | RejectReason::InvalidName { .. }
            | RejectReason::Untyped { .. } => StatusClass::InvalidArgument,
            RejectReason::TooLarge(_) => StatusClass::OutOfRange,
            RejectReason::ShuttingDown => StatusClass::Unavailable,
            RejectReason::Misconfigured { .. }
            | RejectReason::Expired { .. }
            | RejectReason::Abandoned => StatusClass::FailedPrecondition,
            RejectReason::Layer { .. } => StatusClass::PermissionDenied,
        }
    }

    /// Whether sending the same request again may succeed: only when the primary was
    /// shutting down. Nothing was written in any case.
    pub fn is_transient(&self) -> bool {
        match self {
            RejectReason::ShuttingDown => true,
            RejectReason::Unauthenticated
            | RejectReason::Statement(_)
            | RejectReason::TooLarge(_)
            | RejectReason::InvalidName { .. }
            | RejectReason::Misconfigured { .. }
            | RejectReason::Expired { .. }
            | RejectReason::Abandoned
            | RejectReason::Layer { .. }
            | RejectReason::Untyped { .. } => false,
        }
    }
}

/// SQLITE_BUSY (5) and its extended codes: another connection held the lock; nothing
/// was written.
fn is_busy(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let Some(db) = e.as_database_error() else {
        return false;
    };
    db.code()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TooLarge;

    #[test]
    fn a_layers_refusal_is_final_and_did_not_commit() {
        let err = RepoError::Rejected {
            reason: RejectReason::layer("maintenance", "writes are paused"),
        };
        assert!(!err.is_transient());
        assert_eq!(err.commit_state(), CommitState::NotCommitted);
        assert_eq!(err.status_class(), StatusClass::PermissionDenied);
    }

    #[test]
    fn refusals_map_to_their_status_and_only_shutting_down_is_retried() {
        let cases = [
            (
                RejectReason::Unauthenticated,
                StatusClass::Unauthenticated,
                false,
            ),
            (
                RejectReason::TooLarge(TooLarge::Message),
                StatusClass::OutOfRange,
                false,
            ),
            (RejectReason::ShuttingDown, StatusClass::Unavailable, true),
            (
                RejectReason::misconfigured("no endpoint"),
                StatusClass::FailedPrecondition,
                false,
            ),
            (
                RejectReason::untyped("no"),
                StatusClass::InvalidArgument,
                false,
            ),
        ];
        for (reason, class, transient) in cases {
            let err = RepoError::Rejected {
                reason: reason.clone(),
            };
            assert_eq!(err.status_class(), class, "{reason:?}");
            assert_eq!(err.is_transient(), transient, "{reason:?}");
            assert_eq!(err.commit_state(), CommitState::NotCommitted);
        }
    }

    #[test]
    fn an_error_that_may_have_committed_is_never_transient() {
        let maybe = RepoError::MaybeCommitted {
            last: Box::new(RepoError::NotPrimary { primary: None }),
        };
        assert!(!maybe.is_transient());
        assert_eq!(maybe.commit_state(), CommitState::Unknown);
        let unknown = RepoError::Timeout {
            commit: CommitState::Unknown,
        };
        assert!(!unknown.is_transient());
    }
}
