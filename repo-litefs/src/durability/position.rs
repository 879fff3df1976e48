//! `Position`: how far a node's copy of the database goes, and where it comes from
//! ([`PositionSource`]: LiteFS's `<db>-pos`, or the emulator's own).

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;

/// A position of the replicated database: a TXID within a lineage.
///
/// TXIDs compare only within one lineage (one primary's tenure): after a failover they
/// start over, so a replica holds a primary's write only if it reports the same lineage
/// and a TXID at least the write's.
///
/// ```
/// use repo_litefs::durability::Position;
///
/// let at = |lineage, txid| Position { lineage, txid, checksum: 0 };
/// let write = at(3, 10);
/// assert!(at(3, 12).holds(write));
/// assert!(!at(3, 9).holds(write));
/// assert!(!at(2, 99).holds(write), "another primary's numbers");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// Which primary's history the TXID counts in; 0 when the backend has no such notion
    /// (LiteFS's `<db>-pos`).
    pub lineage: u64,
    /// The TXID within that lineage.
    pub txid: u64,
    /// LiteFS's post-apply checksum of the whole database at that TXID (from `<db>-pos`);
    /// 0 where the backend gives exact lineages (the emulator). The primary counts a LiteFS
    /// replica's report only when this matches its own at that TXID
    /// ([`PositionSource::counted`]).
    pub checksum: u64,
}

impl Position {
    /// Whether a node at this position holds everything up to `target`.
    pub fn holds(self, target: Position) -> bool {
        self.lineage == target.lineage && self.txid >= target.txid
    }
}

/// Where a node learns its own position. Replicas report it to the primary; the primary
/// asks it, after a commit, for the position its replicas must reach.
pub trait PositionSource: Send + Sync + std::fmt::Debug + 'static {
    /// This node's position now; `None` when unknown (no file yet, unreadable).
    fn current(&self) -> BoxFuture<'_, Option<Position>>;

    /// On the primary: a position that includes every commit this node made after `began`
    /// (when the write began executing here) and before this call; `None` when this node
    /// cannot say: it is not, or no longer, the primary, or it became the primary after
    /// `began` (the commit may then belong to an earlier tenure of it, whose unreplicated
    /// tail a failover discarded).
    fn after_commit(&self, began: Instant) -> BoxFuture<'_, Option<Position>>;

    /// Resolves when the position may have changed, at the latest after `within`.
    fn changed(&self, within: Duration) -> BoxFuture<'_, ()>;

    /// On the primary: the position under which a replica's `report` counts, comparable
    /// with [`PositionSource::after_commit`]'s, or `None` when the report cannot be shown
    /// to be a state of this primary's history (it is then not counted). By default the
    /// report as it is: a backend whose lineages are exact (the emulator).
    fn counted(&self, report: Position) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move { Some(report) })
    }
}
