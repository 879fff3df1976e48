//! `LiteFsPosition`: positions from LiteFS's `<db>-pos`, with the lineage check that real
//! LiteFS lacks (a replica counts only at a TXID and checksum the primary itself had).

use std::path::PathBuf;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Mutex, watch};
use tokio::time::Instant;

use super::{Position, PositionSource, TenureHistory};
use crate::position::read_pos;
use crate::tracker::{PrimaryState, PrimaryTracker};

/// LiteFS's position file, `<db>-pos` in the mount directory: LiteFS updates it at each
/// commit (on the primary) and each applied transaction (on a replica), as
/// `%016x/%016x\n`: the TXID and the checksum of the whole database after it.
///
/// LiteFS's TXID does not say which primary's history it counts in: after a failover a
/// replica still on the old history can report a TXID as high as a write it does not
/// hold. So on the primary this source keeps a [`TenureHistory`] of its own positions (read
/// after each commit it waits on, and whenever a report names a TXID it has not seen), and
/// counts a replica's report only when it names a TXID and checksum of that history. A new
/// tenure, in which nothing reported before counts, begins whenever the node's role or
/// primary changes ([`LiteFsPosition::following`]; the node sets it) and whenever its own
/// position goes backwards or changes checksum at a known TXID.
///
/// ```
/// use repo_litefs::durability::LiteFsPosition;
///
/// let source = LiteFsPosition::new("/litefs/app.db-pos");
/// # let _ = source;
/// ```
#[derive(Debug)]
pub struct LiteFsPosition {
    /// The `<db>-pos` file.
    path: PathBuf,
    /// How often a replica looks at the file for a change.
    poll: Duration,
    /// On the primary, its own positions in this tenure, and the role changes that end a
    /// tenure; one lock, held across each read of the file, so that positions are observed
    /// in the order LiteFS wrote them.
    own: Mutex<Own>,
}

/// The primary's side of a [`LiteFsPosition`].
#[derive(Debug, Default)]
struct Own {
    /// Positions observed in this tenure.
    history: TenureHistory,
    /// The node's role, when followed: any change begins a new tenure, and only a primary
    /// vouches for anything.
    role: Option<watch::Receiver<PrimaryState>>,
}

impl Own {
    /// Whether this node may vouch for positions now (a new tenure has begun if its role
    /// changed since last asked).
    fn primary_now(&mut self) -> bool {
        let Some(role) = &mut self.role else {
            return true;
        };
        if role.has_changed().unwrap_or(true) {
            self.history.begin();
        }
        role.borrow_and_update().is_primary()
    }
}

impl LiteFsPosition {
    /// Reads the position from LiteFS's `<db>-pos` at `path`, looking for changes every 5 ms.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            poll: Duration::from_millis(5),
            own: Mutex::new(Own::default()),
        }
    }

    /// How often to look at the file for a change.
    pub fn poll(mut self, every: Duration) -> Self {
        self.poll = every.max(Duration::from_micros(100));
        self
    }

    /// Follows this node's role: every change (demoted, promoted, another primary, LiteFS
    /// unreachable) ends the tenure, and positions are vouched for only while `tracker`
    /// says this node is the primary.
    pub fn following(self, tracker: &PrimaryTracker) -> Self {
        let mut role = tracker.subscribe();
        role.mark_changed();
        Self {
            own: Mutex::new(Own {
                history: TenureHistory::default(),
                role: Some(role),
            }),
            ..self
        }
    }

    /// Reads the file into `own` (called with the lock held); the tenure and position read,
    /// if this node is the primary and the file is readable.
    async fn observe(&self, own: &mut Own) -> Option<(u64, u64, u64)> {
        if !own.primary_now() {
            return None;
        }
        let (txid, checksum) = read_pos(&self.path).await?;
        Some((own.history.observe(txid, checksum), txid, checksum))
    }
}

impl PositionSource for LiteFsPosition {
    fn current(&self) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move {
            read_pos(&self.path).await.map(|(txid, checksum)| Position {
                lineage: 0,
                txid,
                checksum,
            })
        })
    }

    fn after_commit(&self, _began: Instant) -> BoxFuture<'_, Option<Position>> {
        // LiteFS writes the position at the commit itself, and the tenure history vouches
        // for the lineage of what this node committed by its checksum.
        Box::pin(async move {
            let mut own = self.own.lock().await;
            let (lineage, txid, checksum) = self.observe(&mut own).await?;
            Some(Position {
                lineage,
                txid,
                checksum,
            })
        })
    }

    fn changed(&self, within: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(self.poll.min(within)))
    }

    fn counted(&self, report: Position) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move {
            let mut own = self.own.lock().await;
            if !own.primary_now() {
                return None;
            }
            if !own.history.knows(report.txid) {
                // The report may name this node's latest commit, not yet read here.
                self.observe(&mut own).await;
            }
            let lineage = own.history.vouch(report.txid, report.checksum)?;
            Some(Position {
                lineage,
                txid: report.txid,
                checksum: report.checksum,
            })
        })
    }
}
