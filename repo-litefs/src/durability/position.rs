//! `Position`: how far a node's copy of the database goes, and where it comes from
//! ([`PositionSource`]: LiteFS's `<db>-pos`, or the emulator's own).

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::position::read_txid;

/// A position of the replicated database: a TXID within a lineage.
///
/// TXIDs compare only within one lineage (one primary's tenure): after a failover they
/// start over, so a replica holds a primary's write only if it reports the same lineage
/// and a TXID at least the write's.
///
/// ```
/// use repo_litefs::durability::Position;
///
/// let write = Position { lineage: 3, txid: 10 };
/// assert!(Position { lineage: 3, txid: 12 }.holds(write));
/// assert!(!Position { lineage: 3, txid: 9 }.holds(write));
/// assert!(!Position { lineage: 2, txid: 99 }.holds(write), "another primary's numbers");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// Which primary's history the TXID counts in; 0 when the backend has no such notion
    /// (LiteFS's `<db>-pos`).
    pub lineage: u64,
    /// The TXID within that lineage.
    pub txid: u64,
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

    /// On the primary: a position that includes every commit that ended before this call;
    /// `None` when this node cannot say (it is not, or no longer, the primary).
    fn after_commit(&self) -> BoxFuture<'_, Option<Position>>;

    /// Resolves when the position may have changed, at the latest after `within`.
    fn changed(&self, within: Duration) -> BoxFuture<'_, ()>;
}

/// LiteFS's position file, `<db>-pos` in the mount directory: LiteFS updates it at each
/// commit (on the primary) and each applied transaction (on a replica). The lineage is
/// always 0: LiteFS's TXID does not say which primary's history it counts in, so right
/// after a failover a replica's TXID from the old primary can be taken for the new one's
/// (see the module docs).
#[derive(Debug, Clone)]
pub struct LiteFsPosition {
    /// The `<db>-pos` file.
    path: PathBuf,
    /// How often a replica looks at the file for a change.
    poll: Duration,
}

impl LiteFsPosition {
    /// Reads the position from LiteFS's `<db>-pos` at `path`, looking for changes every 5 ms.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            poll: Duration::from_millis(5),
        }
    }

    /// How often to look at the file for a change.
    pub fn poll(mut self, every: Duration) -> Self {
        self.poll = every.max(Duration::from_micros(100));
        self
    }
}

impl PositionSource for LiteFsPosition {
    fn current(&self) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move {
            read_txid(&self.path)
                .await
                .map(|txid| Position { lineage: 0, txid })
        })
    }

    fn after_commit(&self) -> BoxFuture<'_, Option<Position>> {
        // LiteFS writes the TXID at the commit itself.
        self.current()
    }

    fn changed(&self, within: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(self.poll.min(within)))
    }
}
