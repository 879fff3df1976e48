//! Read your writes: after a forwarded write returns, wait (bounded) until this node's own
//! database has it.
//!
//! The primary records each forwarded request id in the ledger in the write's transaction,
//! and LiteFS replicates that row with the data, atomically. So once the row is visible
//! locally, so is the write (PostgreSQL's streaming replication replays the row with the
//! data too). With a [`ReplicationPosition`] on both sides (LiteFS's TXID, PostgreSQL's
//! LSN), the wait also ends as soon as this node's position reaches the primary's after the
//! commit. The wait always ends by its bound at the latest: a LiteFS TXID can go backwards
//! after a failover, a row cannot appear early.
//!
//! A write looks for itself once; after that, one watcher per node ([`arrivals`]) looks
//! for all waiting writes at once, and only when this node's files changed
//! ([`signal`]): with 32 writes waiting, the database is asked once per replicated change,
//! not 32 times a millisecond. Without files to watch (a PostgreSQL standby, or a
//! `ReadYourWrites` given none) the watcher looks every millisecond, still once for all.

mod arrivals;
mod signal;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use repo_core::RepoError;
use sea_orm::DatabaseConnection;
use tokio::time::Instant;

use crate::backend::{LiteFsTxid, ReplicationPosition};
use arrivals::Arrivals;
pub use signal::{ChangeSignal, FileMark, Fingerprint};

/// What a call does when its write has not reached this node within the wait.
///
/// The default is [`OnLag::Fail`]: a wait that runs out most often means this node is cut
/// off from the primary, or the primary has just lost its lease, which is when a write the
/// primary committed can still be lost in a failover (replication is asynchronous). An
/// error that says "committed" lets the caller know the write is unconfirmed; a success
/// would hide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLag {
    /// Return the committed result anyway, as if confirmed. Never silently: each such
    /// write is counted in `litefs_consistency_timeouts_total` and logged at WARN with its
    /// request id. The risk: a read here right after may not see the write, and if the
    /// wait ran out because a failover is under way, the write may be lost although the
    /// call succeeded (ask for `Durability::Candidates` to rule that out).
    ReturnCommitted,
    /// Fail with [`RepoError::ReplicationLag`], which says the write **did** commit (the
    /// default).
    #[default]
    Fail,
}

/// How a replica waits for its own writes.
#[derive(Debug, Clone)]
pub struct ReadYourWrites {
    /// This node's database, read to see whether the write has arrived.
    pub(crate) local: DatabaseConnection,
    /// The longest wait (default 5 s), also bounded by the call's deadline.
    pub(crate) wait: Duration,
    /// What to do when the wait ends first.
    pub(crate) on_lag: OnLag,
    /// This node's replication position, to compare with the primary's.
    pub(crate) position: Option<Arc<dyn ReplicationPosition>>,
    /// What tells this node's watcher that its database may have changed.
    signal: ChangeSignal,
    /// This node's watcher, shared by every clone (one per node).
    arrivals: Arc<Arrivals>,
}

impl ReadYourWrites {
    /// Waits on `local` (this node's database) for up to 5 s, then fails with
    /// [`RepoError::ReplicationLag`] ([`OnLag::Fail`], the default).
    /// Without [`ReadYourWrites::watch_files`] a waiting write is looked for every
    /// millisecond.
    pub fn new(local: DatabaseConnection) -> Self {
        let signal = ChangeSignal::Ticks;
        Self {
            arrivals: Arc::new(Arrivals::new(local.clone(), None, signal.clone())),
            local,
            wait: Duration::from_secs(5),
            on_lag: OnLag::default(),
            position: None,
            signal,
        }
    }

    /// Files that change whenever this node's database does: its SQLite file (and `-wal`
    /// in WAL mode), LiteFS's `<db>-pos`. Waiting writes are then looked for only when one
    /// of them changed (the node's watcher reads a few bytes of each every millisecond
    /// while writes wait, nothing while none does), instead of every millisecond. Leave a
    /// file out if it can change without the database changing, never the reverse: a change
    /// no watched file shows is seen only when the wait ends.
    ///
    /// ```no_run
    /// # async fn f(db: sea_orm::DatabaseConnection) {
    /// use repo_litefs::ReadYourWrites;
    /// let wait = ReadYourWrites::new(db).watch_files(["/litefs/blog.db", "/litefs/blog.db-pos"]);
    /// # }
    /// ```
    pub fn watch_files(mut self, files: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        self.signal = ChangeSignal::files(files);
        self.rebuild()
    }

    /// A new watcher for the current settings (the builders are called before the first
    /// wait, so nothing waits on the old one).
    fn rebuild(mut self) -> Self {
        self.arrivals = Arc::new(Arrivals::new(
            self.local.clone(),
            self.position.clone(),
            self.signal.clone(),
        ));
        self
    }

    /// The longest wait.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Also stops waiting once this node's TXID, read from LiteFS's `<db>-pos` at
    /// `pos_file`, reaches the one the primary reported after the commit (needs
    /// `ServerConfig::litefs_position` on the primary). Only real LiteFS updates the file
    /// at commit; the ledger row remains the check when either side has no TXID. The file
    /// is also watched (see [`ReadYourWrites::watch_files`]).
    pub fn litefs_position(mut self, pos_file: impl Into<PathBuf>) -> Self {
        let pos_file = pos_file.into();
        let mut files = match &self.signal {
            ChangeSignal::Files(files) => files.clone(),
            ChangeSignal::Ticks => Vec::new(),
        };
        if !files.contains(&pos_file) {
            files.push(pos_file.clone());
        }
        self.signal = ChangeSignal::Files(files);
        self.position(Arc::new(LiteFsTxid::new(pos_file)))
    }

    /// Also stops waiting once this node's `position` reaches the one the primary reported
    /// after the commit (LiteFS's TXID, PostgreSQL's LSN: see
    /// [`Backend::position`](crate::backend::Backend::position)).
    pub fn position(mut self, position: Arc<dyn ReplicationPosition>) -> Self {
        self.position = Some(position);
        self.rebuild()
    }

    /// What to do when the wait ends before the write arrived.
    pub fn on_lag(mut self, on_lag: OnLag) -> Self {
        self.on_lag = on_lag;
        self
    }

    /// Waits until the ledger row of `request_id` is visible locally (or this node has
    /// reached `txid`), bounded by the wait and `deadline`.
    pub(crate) async fn wait_for(
        &self,
        request_id: uuid::Uuid,
        txid: Option<u64>,
        deadline: Option<Instant>,
    ) -> Result<(), RepoError> {
        let started = Instant::now();
        let mut until = started + self.wait;
        if let Some(deadline) = deadline {
            until = until.min(deadline);
        }
        // Registered before the first look: a change after it reaches the watcher.
        let mut registration = self.arrivals.register(request_id, txid);
        let arrived = self.arrivals.look_for(request_id, txid, until).await || {
            tokio::select! {
                () = registration.arrived() => true,
                () = tokio::time::sleep_until(until) => false,
            }
        };
        drop(registration);
        if arrived {
            metrics::histogram!("litefs_consistency_wait_seconds")
                .record(started.elapsed().as_secs_f64());
            return Ok(());
        }
        let waited = started.elapsed();
        metrics::counter!("litefs_consistency_timeouts_total").increment(1);
        tracing::warn!(
            request_id = %request_id,
            ?waited,
            on_lag = ?self.on_lag,
            "this node had not caught up with a forwarded write: it committed on the primary, \
             unconfirmed here"
        );
        match self.on_lag {
            OnLag::ReturnCommitted => Ok(()),
            OnLag::Fail => Err(RepoError::ReplicationLag { waited }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OnLag;

    #[test]
    fn an_unconfirmed_write_is_an_error_by_default() {
        assert_eq!(OnLag::default(), OnLag::Fail);
    }
}
