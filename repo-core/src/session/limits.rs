//! `TransactionLimits`: how long an interactive transaction may stay open, in all and
//! between two of its statements.

use std::time::Duration;

/// The bounds of one interactive transaction (see [`crate::RepoTransaction`]).
///
/// An open interactive transaction holds the node's writer — SQLite's write lock — so every
/// other write of the cluster waits behind it. When either bound passes, the node holding
/// the transaction rolls it back at once and releases the writer; the next statement (or
/// the commit) gets [`RepoError::TransactionExpired`](crate::RepoError::TransactionExpired),
/// never a silent autocommit.
///
/// Defaults: **5 s** in all (`max_duration`), **1 s** between two statements
/// (`max_idle`). Set other defaults with `RepoBuilder::transaction_limits`, or per call with
/// `Repo::begin_with_limits` / `Repo::transaction_with_limits`.
///
/// ```
/// use std::time::Duration;
/// use repo_core::TransactionLimits;
/// let limits = TransactionLimits::default()
///     .max_duration(Duration::from_secs(2))
///     .max_idle(Duration::from_millis(300));
/// assert_eq!(limits.duration(), Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionLimits {
    /// The longest the transaction may stay open, from `begin` to its commit.
    max_duration: Duration,
    /// The longest gap between the end of one statement and the arrival of the next.
    max_idle: Duration,
}

impl Default for TransactionLimits {
    fn default() -> Self {
        Self {
            max_duration: Duration::from_secs(5),
            max_idle: Duration::from_secs(1),
        }
    }
}

impl TransactionLimits {
    /// The longest the transaction may stay open in all (at least 1 ms).
    #[must_use]
    pub fn max_duration(mut self, limit: Duration) -> Self {
        self.max_duration = limit.max(Duration::from_millis(1));
        self
    }

    /// The longest gap between two statements (at least 1 ms).
    #[must_use]
    pub fn max_idle(mut self, limit: Duration) -> Self {
        self.max_idle = limit.max(Duration::from_millis(1));
        self
    }

    /// The maximum duration.
    pub fn duration(&self) -> Duration {
        self.max_duration
    }

    /// The maximum idle gap.
    pub fn idle(&self) -> Duration {
        self.max_idle
    }
}
