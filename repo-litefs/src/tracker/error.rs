//! The failures a caller of [`PrimaryTracker`](super::PrimaryTracker) can see.

use std::time::Duration;

/// Why [`PrimaryTracker::wait_for_primary`](super::PrimaryTracker::wait_for_primary) gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// No primary was known when the wait ran out: this node is not the primary and does not
    /// know which node is. Writes cannot be placed until LiteFS reports one.
    #[error(
        "primary unavailable: no primary known after {waited:?}; check that LiteFS is running \
         on this node (its /info endpoint and logs) and that some node holds the primary lease"
    )]
    PrimaryUnavailable {
        /// How long the caller waited.
        waited: Duration,
    },
    /// Nothing will update the state any more: the [`PrimaryHandle`](super::PrimaryHandle) of a
    /// manual tracker was dropped, and the state it left has no primary.
    #[error(
        "primary tracker closed: its PrimaryHandle was dropped and the last state it set has \
         no primary"
    )]
    Closed,
}
