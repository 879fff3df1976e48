//! `ExpiryCause`: why an interactive transaction ended without a commit.

use std::time::Duration;

/// Why an interactive transaction is over before its commit (in
/// [`RepoError::TransactionExpired`](crate::RepoError::TransactionExpired)). Whatever the
/// cause, the transaction was rolled back and nothing of it was written: run it again as a
/// whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpiryCause {
    /// It stayed open longer than its maximum duration.
    #[error("open longer than its maximum duration of {limit:?}")]
    MaxDuration {
        /// The maximum duration that passed.
        limit: Duration,
    },
    /// No statement arrived within its maximum idle gap.
    #[error("idle longer than its maximum idle gap of {limit:?}")]
    Idle {
        /// The maximum idle gap that passed.
        limit: Duration,
    },
    /// The connection that held it broke (the stream to the primary, or the caller went
    /// away).
    #[error("the connection holding it broke")]
    Disconnected,
    /// It had already ended: committed, rolled back, or rolled back by the database after
    /// an earlier failure (an interrupted statement).
    #[error("it had already ended")]
    Closed,
}
