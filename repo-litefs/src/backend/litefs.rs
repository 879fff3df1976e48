//! LiteFS as a [`Backend`]: the first backend, and the default of a node.

use std::path::PathBuf;
use std::sync::Arc;

use futures::future::BoxFuture;

use super::{Backend, ReplicationPosition, SqlDialect};
use crate::durability::{LiteFsPosition, PositionSource};
use crate::position::read_txid;
use crate::tracker::{PrimaryTracker, TrackerConfig};

/// LiteFS's TXID in a `<db>-pos` file as a [`ReplicationPosition`]: the primary reads its
/// own after each commit, a replica its own while it waits.
#[derive(Debug, Clone)]
pub struct LiteFsTxid {
    /// This node's `<db>-pos` file in the FUSE mount.
    file: PathBuf,
}

impl LiteFsTxid {
    /// The TXID in the `<db>-pos` file at `file`.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self { file: file.into() }
    }
}

impl ReplicationPosition for LiteFsTxid {
    fn committed(&self) -> BoxFuture<'_, Option<u64>> {
        Box::pin(read_txid(&self.file))
    }

    fn reached(&self, target: u64) -> BoxFuture<'_, bool> {
        Box::pin(async move { read_txid(&self.file).await.is_some_and(|own| own >= target) })
    }
}

/// LiteFS: the role from its HTTP API or mount ([`TrackerConfig`]), the TXID of `<db>-pos`,
/// SQLite's dialect.
#[derive(Debug, Clone)]
pub struct LiteFs {
    /// How the tracker follows LiteFS (or a tracker given instead).
    source: Source,
    /// This node's `<db>-pos` file, when read-your-writes may use TXIDs.
    position: Option<PathBuf>,
}

/// Where a LiteFS node learns its role.
#[derive(Debug, Clone)]
enum Source {
    /// Follow LiteFS as configured.
    Follow(TrackerConfig),
    /// A tracker given by the caller (tests, other discovery).
    Given(PrimaryTracker),
}

impl LiteFs {
    /// Follows LiteFS as `tracker` says; `position` is this node's `<db>-pos` file, when
    /// TXIDs may end read-your-writes waits.
    pub fn new(tracker: TrackerConfig, position: Option<PathBuf>) -> Self {
        Self {
            source: Source::Follow(tracker),
            position,
        }
    }

    /// Uses `tracker` for the role instead of following LiteFS.
    pub fn with_tracker(tracker: PrimaryTracker, position: Option<PathBuf>) -> Self {
        Self {
            source: Source::Given(tracker),
            position,
        }
    }
}

impl Backend for LiteFs {
    fn name(&self) -> &'static str {
        "litefs"
    }

    fn follow(&self) -> PrimaryTracker {
        match &self.source {
            Source::Follow(config) => PrimaryTracker::spawn(config.clone()),
            Source::Given(tracker) => tracker.clone(),
        }
    }

    fn position(&self) -> Option<Arc<dyn ReplicationPosition>> {
        let file = self.position.clone()?;
        Some(Arc::new(LiteFsTxid::new(file)))
    }

    fn durability_source(&self, tracker: &PrimaryTracker) -> Option<Arc<dyn PositionSource>> {
        let file = self.position.clone()?;
        Some(Arc::new(LiteFsPosition::new(file).following(tracker)))
    }

    fn dialect(&self) -> SqlDialect {
        SqlDialect::Sqlite
    }
}
