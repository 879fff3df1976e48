//! `RepoError`: every way a repository call can fail, typed; [`RejectReason`]: why a call
//! was refused; [`StatusClass`]: how each error is classified (in `class.rs`, one
//! exhaustive match per question).

mod class;
mod reject;

use sea_orm::{DbErr, SqlErr};

pub use class::StatusClass;
pub use reject::{
    MAX_REASON_CHARS, NamedPart, RejectReason, RejectedStatement, StatementRule, TooLarge,
};

/// Whether a write that failed may nevertheless have been committed.
///
/// A timeout that fires after a request has been handed to the database (or has left the
/// node) cannot tell whether the commit happened. Callers that retry must use the same
/// request id so that the primary can deduplicate (see the forwarding crate's ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitState {
    /// The write certainly did not commit (it was refused before it started).
    NotCommitted,
    /// The write may or may not have committed.
    Unknown,
    /// The write committed; only what followed it (such as waiting for replication) failed.
    Committed,
}

/// The error of every repository call.
///
/// Database errors keep sea-orm's own [`DbErr`], so [`RepoError::sql_err`] classifies unique
/// and foreign-key violations exactly as `DbErr::sql_err` does. Layers added by other crates
/// report their failures through the variants marked as theirs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RepoError {
    /// The database refused or failed the statement.
    #[error("database error: {0}")]
    Database(#[from] DbErr),

    /// A named transaction was called that is not registered on this repository.
    #[error(
        "unknown named transaction `{0}`: register it on every node with RepoBuilder::transaction::<T>()"
    )]
    UnknownTransaction(String),

    /// A named transaction returned an error of its own; everything it wrote was rolled back.
    #[error("named transaction `{name}` failed and was rolled back: {source}")]
    TransactionFailed {
        /// The transaction's registered name.
        name: String,
        /// What the transaction returned.
        #[source]
        source: DbErr,
    },

    /// A step of a `Multi` failed; every step was rolled back.
    #[error("multi step `{step}` failed and every step was rolled back: {source}")]
    MultiStep {
        /// Name of the step that failed.
        step: String,
        /// Why it failed.
        #[source]
        source: Box<RepoError>,
    },

    /// Transaction arguments, outputs or a request could not be encoded or decoded.
    #[error("encoding error: {0}")]
    Codec(String),

    /// The request is malformed (for example a `Multi` with two steps of the same name).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// `get_by` found more than one row.
    #[error("expected at most one row, found several")]
    MultipleResults,

    /// The node that received the write is not the primary (any more); it names the primary
    /// it knows. Nothing was written; retrying once the view of the primary is refreshed
    /// is safe.
    #[error("not the primary; the primary is {}", primary.as_deref().unwrap_or("unknown"))]
    NotPrimary {
        /// The primary the refusing node knows of.
        primary: Option<String>,
    },

    /// No primary was known within the wait; nothing was sent. Check that LiteFS runs and
    /// holds a lease.
    #[error(
        "primary unavailable: no primary known after waiting {waited:?}; check LiteFS and its lease"
    )]
    PrimaryUnavailable {
        /// How long the call waited for one.
        waited: std::time::Duration,
    },

    /// The primary could not be reached, or the connection failed during the call.
    #[error("primary {node} unreachable: {message}")]
    Unreachable {
        /// The node that was called.
        node: String,
        /// What the transport said.
        message: String,
        /// Whether the write may have committed before the connection failed.
        commit: CommitState,
    },

    /// The call was refused before it ran, and nothing was written: by the primary
    /// (authentication, its allowlist, a size limit, shutting down), by this node's
    /// configuration, or by a layer of the caller's own stack. [`RejectReason`] says which.
    ///
    /// A custom layer that refuses a call returns this, with [`RejectReason::layer`]:
    /// it is not retried and does not count against the circuit breaker.
    #[error("refused, nothing was written: {reason}")]
    Rejected {
        /// Why, typed; the same on a replica as on the primary that refused.
        reason: RejectReason,
    },

    /// The write **committed** on the primary, but this node had not caught up with it
    /// within the consistency wait, so a read here may not see it yet (strict mode only; by
    /// default the result is returned and the lag recorded).
    #[error("the write committed on the primary, but this node had not caught up after {waited:?}")]
    ReplicationLag {
        /// How long the call waited for this node to catch up.
        waited: std::time::Duration,
    },

    /// The write **committed** on the primary, but not every lease candidate reported
    /// holding it before the bound passed (the call asked for
    /// [`Durability::Candidates`](crate::Durability::Candidates)): a failover now could
    /// lose it. Not retried; a retry with the same request id is answered from the ledger
    /// and waits again.
    #[error(
        "the write committed on the primary, but is not yet replicated to every lease \
         candidate after {waited:?} (missing: {})", missing.join(", ")
    )]
    NotReplicated {
        /// How long the primary waited for the candidates.
        waited: std::time::Duration,
        /// The candidates that had not reported holding the write (by name; for an
        /// "at least N" rule, how many more were needed, as `"N more"`).
        missing: Vec<String>,
    },

    /// The last attempt failed with `last`, but an earlier attempt of the same write may
    /// have committed (its outcome was unknown). Retry only with the same request id.
    #[error("an earlier attempt may have committed; the last one failed: {last}")]
    MaybeCommitted {
        /// How the last attempt failed.
        last: Box<RepoError>,
    },

    /// The circuit breaker is open: recent calls failed, so this one was refused at once,
    /// without being sent anywhere. It did not commit.
    #[error("circuit open after repeated failures: refused without trying; retry in {retry_in:?}")]
    CircuitOpen {
        /// How long until the breaker lets a probe through.
        retry_in: std::time::Duration,
    },

    /// The call's deadline passed.
    #[error("deadline exceeded ({})", commit_hint(*.commit))]
    Timeout {
        /// Whether the write may have committed anyway.
        commit: CommitState,
    },

    /// The write ran longer than it was given and the database stopped it: nothing was
    /// committed. On SQLite the bound is the node's maximum statement time; on PostgreSQL
    /// it is the call's deadline less a margin for the answer (the server cancels the
    /// statement: `statement_timeout`, set per write). Not retried (it would run out of
    /// time again): simplify the statement, give the call more time, or raise the limit
    /// (`WriterConfig::max_statement_time`) on the node that executes writes.
    #[error(
        "interrupted after {limit:?} (the maximum statement time, or on PostgreSQL the \
         call's deadline); nothing was committed (simplify the statement, give the call \
         more time or raise WriterConfig::max_statement_time)"
    )]
    Interrupted {
        /// The time the write was given: the maximum statement time, or on PostgreSQL the
        /// time left to the call's deadline less the margin.
        limit: std::time::Duration,
    },

    /// The request's id — a caller's [`IdempotencyKey`](crate::IdempotencyKey), or the id
    /// a retry reuses — was already used by a write that asked for something else (another
    /// statement, other values, another transaction or arguments). Nothing was written, and
    /// nothing of the earlier write or its answer is revealed. Not retried: a new write
    /// needs a new key.
    #[error(
        "this idempotency key was already used for a different write; nothing was written \
         (a new write needs a new key)"
    )]
    IdempotencyConflict,

    /// The node that ran the write failed internally (a panic, logged there and counted in
    /// `repo_executor_panics_total`); the write rolled back and other writes were not
    /// affected. A bug, not a property of the data: report it.
    #[error("internal error on the executing node: {message}")]
    Internal {
        /// What failed, without internal detail.
        message: String,
    },

    /// An interactive transaction ([`crate::RepoTransaction`]) is over: it passed its
    /// maximum duration or idle gap, its connection broke, or it had already ended. It was
    /// rolled back at once and nothing of it was written; this statement did not run
    /// either (never a silent autocommit). Run the whole transaction again.
    #[error("transaction expired and rolled back, nothing was written: {cause}")]
    TransactionExpired {
        /// Why it ended.
        cause: crate::ExpiryCause,
    },

    /// The node holding an interactive transaction stopped being the primary before it
    /// committed (a failover, a demotion): it was rolled back and nothing was written. Run
    /// the whole transaction again; it then goes to the new primary.
    #[error(
        "transaction aborted: the node holding it is no longer the primary (the primary is {}); \
         nothing was written, retry the whole transaction",
        primary.as_deref().unwrap_or("unknown")
    )]
    TransactionAborted {
        /// The primary the aborting node knows of.
        primary: Option<String>,
    },
}

fn commit_hint(state: CommitState) -> &'static str {
    match state {
        CommitState::NotCommitted => "the write did not start",
        CommitState::Unknown => "the write may have committed; retry with the same request id",
        CommitState::Committed => "the write committed",
    }
}

impl RepoError {
    /// The SQL classification of this error (unique / foreign-key violation), wherever it
    /// happened: locally, inside a `Multi` step, or on another node.
    pub fn sql_err(&self) -> Option<SqlErr> {
        match self {
            RepoError::Database(e) | RepoError::TransactionFailed { source: e, .. } => e.sql_err(),
            RepoError::MultiStep { source, .. } => source.sql_err(),
            _ => None,
        }
    }

    /// A short stable label for metrics and logs: `unique_violation`, `foreign_key_violation`,
    /// `database`, `connection`, `timeout`, `circuit_open`, …
    pub fn kind(&self) -> &'static str {
        match self {
            RepoError::Database(DbErr::Conn(_) | DbErr::ConnectionAcquire(_)) => "connection",
            RepoError::Database(_)
            | RepoError::TransactionFailed { .. }
            | RepoError::MultiStep { .. } => match self.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => "unique_violation",
                Some(SqlErr::ForeignKeyConstraintViolation(_)) => "foreign_key_violation",
                _ => "database",
            },
            RepoError::UnknownTransaction(_) => "unknown_transaction",
            RepoError::Codec(_) => "codec",
            RepoError::InvalidRequest(_) => "invalid_request",
            RepoError::MultipleResults => "multiple_results",
            RepoError::CircuitOpen { .. } => "circuit_open",
            RepoError::NotPrimary { .. } => "not_primary",
            RepoError::PrimaryUnavailable { .. } => "primary_unavailable",
            RepoError::Unreachable { .. } => "unreachable",
            RepoError::Rejected { .. } => "rejected",
            RepoError::ReplicationLag { .. } => "replication_lag",
            RepoError::NotReplicated { .. } => "not_replicated",
            RepoError::MaybeCommitted { .. } => "maybe_committed",
            RepoError::Timeout { .. } => "timeout",
            RepoError::Interrupted { .. } => "interrupted",
            RepoError::Internal { .. } => "internal",
            RepoError::IdempotencyConflict => "idempotency_conflict",
            RepoError::TransactionExpired { .. } => "transaction_expired",
            RepoError::TransactionAborted { .. } => "transaction_aborted",
        }
    }

    /// Whether this error ended an interactive transaction that should be run again as a
    /// whole ([`RepoError::TransactionExpired`], [`RepoError::TransactionAborted`]).
    pub fn retry_whole_transaction(&self) -> bool {
        matches!(
            self,
            RepoError::TransactionExpired { .. } | RepoError::TransactionAborted { .. }
        )
    }

    /// Turns this error into the `DbErr` that sea-orm's own API must return (the
    /// `ConnectionTrait` path). Database errors pass through unchanged so `sql_err()` keeps
    /// working; the others become `DbErr::Custom` with this error's message.
    pub fn into_db_err(self) -> DbErr {
        match self {
            RepoError::Database(e) => e,
            other => DbErr::Custom(other.to_string()),
        }
    }
}
