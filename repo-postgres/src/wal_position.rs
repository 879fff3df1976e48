//! `WalPosition`: PostgreSQL's timeline and WAL LSN as the position of
//! `Durability::Candidates` (see `repo_litefs::durability`).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use repo_litefs::durability::{Position, PositionSource};
use repo_litefs::tracker::PrimaryTracker;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::time::Instant;

use crate::lsn::parse_lsn;

/// One query for either role: on a standby, the timeline and the LSN its WAL receiver has
/// received **and flushed to disk** (what a promotion of it would replay, so what it
/// holds); on the primary, its timeline (the first 8 hex digits of the current WAL file's
/// name) and `pg_current_wal_lsn()`. A standby with no running WAL receiver, or whose
/// receiver's columns this user may not read, gives NULLs.
const POSITION: &str = "SELECT \
     CASE WHEN pg_is_in_recovery() THEN r.received_tli::bigint \
          ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END, \
     CASE WHEN pg_is_in_recovery() THEN r.flushed_lsn::text \
          ELSE pg_current_wal_lsn()::text END, \
     pg_is_in_recovery() \
     FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true";

/// A node's position on PostgreSQL, as `Durability::Candidates` compares them: the
/// timeline is the lineage (LSNs of two timelines do not compare: a standby still on the
/// old one may be past the point where the new one forked), the LSN is the TXID.
///
/// - On a standby, [`PositionSource::current`] is what its WAL receiver has flushed to
///   disk (`pg_stat_wal_receiver`: `received_tli`, `flushed_lsn`), not what it has
///   replayed: a promoted standby replays everything it received, so a write flushed
///   there survives a failover to it. Reading those columns needs superuser or the
///   `pg_read_all_stats` role; without it the standby reports nothing and `Candidates`
///   writes end in `NotReplicated` (the primary cannot show they are held).
/// - On the primary, [`PositionSource::after_commit`] is its timeline and
///   `pg_current_wal_lsn()` read after the commit: at or beyond the commit's record. It
///   vouches only while the node's tracker says primary, and not for a write begun before
///   this tenure as primary began (the commit could belong to an earlier tenure whose tail
///   a rewind discarded).
///
/// The node builds one for a PostgreSQL node with durability settings
/// ([`crate::Postgres`]'s `durability_source`); an application assembling its own stack
/// gives it to `DurabilityConfig::position_source`.
#[derive(Debug)]
pub struct WalPosition {
    /// This node's connection.
    db: DatabaseConnection,
    /// How often a standby looks for a new position.
    poll: Duration,
    /// When this node's current tenure as primary began; `None` while it is not primary.
    tenure: Arc<Mutex<Option<Instant>>>,
    /// Keeps `tenure` up to date; stopped when this source is dropped.
    watcher: tokio::task::JoinHandle<()>,
}

impl WalPosition {
    /// The position of the database behind `db`, on a node whose role `tracker` follows;
    /// a standby looks for changes every 5 ms.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime (a task follows the role).
    pub fn new(db: DatabaseConnection, tracker: &PrimaryTracker) -> Self {
        let mut roles = tracker.subscribe();
        let began = |primary: bool| primary.then(Instant::now);
        let tenure = Arc::new(Mutex::new(began(roles.borrow_and_update().is_primary())));
        let watcher = tokio::spawn({
            let tenure = tenure.clone();
            async move {
                while roles.changed().await.is_ok() {
                    let primary = roles.borrow_and_update().is_primary();
                    *tenure.lock().unwrap_or_else(PoisonError::into_inner) = began(primary);
                }
            }
        });
        Self {
            db,
            poll: Duration::from_millis(5),
            tenure,
            watcher,
        }
    }

    /// How often a standby looks for a new position (each look is one query).
    pub fn poll(mut self, every: Duration) -> Self {
        self.poll = every.max(Duration::from_millis(1));
        self
    }

    /// The position [`POSITION`] reads, if the server gives one, and whether the server is
    /// a standby.
    async fn read(&self) -> Option<(Position, bool)> {
        let row = self
            .db
            .query_one_raw(Statement::from_string(DbBackend::Postgres, POSITION))
            .await
            .inspect_err(|e| tracing::debug!(error = %e, "reading the WAL position failed"))
            .ok()??;
        let timeline: Option<i64> = row.try_get_by_index(0).ok()?;
        let lsn: Option<String> = row.try_get_by_index(1).ok()?;
        let standby: bool = row.try_get_by_index(2).ok()?;
        let position = Position {
            lineage: u64::try_from(timeline?).ok()?,
            txid: parse_lsn(&lsn?)?,
            checksum: 0,
        };
        Some((position, standby))
    }
}

impl Drop for WalPosition {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl PositionSource for WalPosition {
    fn current(&self) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move { self.read().await.map(|(position, _)| position) })
    }

    fn after_commit(&self, began: Instant) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move {
            let since = *self.tenure.lock().unwrap_or_else(PoisonError::into_inner);
            if since.is_none_or(|since| since > began) {
                return None;
            }
            match self.read().await? {
                (position, false) => Some(position),
                (_, true) => None,
            }
        })
    }

    fn changed(&self, within: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(self.poll.min(within)))
    }
}
