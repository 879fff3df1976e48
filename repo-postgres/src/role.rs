//! `RoleFollower`: this node's role from `pg_is_in_recovery()`, in memory, refreshed in the
//! background and on demand; and its replication lag, read with it.

use std::sync::Arc;
use std::time::Duration;

use repo_litefs::lag::{ReplicationLag, SampledLag};
use repo_litefs::tracker::{PrimaryHandle, PrimaryState, PrimaryTracker};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::Notify;

/// Where a node's role comes from on PostgreSQL.
#[derive(Debug, Clone)]
pub struct RoleConfig {
    /// This node's name (its forwarding endpoint, through the node's `Endpoints`).
    pub(crate) node: String,
    /// The primary's name, from configuration: where a replica forwards its writes.
    pub(crate) primary: String,
    /// How often the role is read again (default 500 ms).
    pub(crate) interval: Duration,
    /// Failed reads in a row after which the role is unknown (default 3).
    pub(crate) failures: u32,
    /// Discovery: the node behind each upstream server (`host:port`) a standby may stream
    /// from (see [`RoleConfig::upstream`]).
    pub(crate) upstreams: Vec<(String, String)>,
}

impl RoleConfig {
    /// Node `node`, whose replicas forward to the node named `primary` (a name the node's
    /// `Endpoints` maps to an address, as with LiteFS: a template fed by a configured
    /// primary name or region).
    pub fn new(node: impl Into<String>, primary: impl Into<String>) -> Self {
        Self {
            node: node.into(),
            primary: primary.into(),
            interval: Duration::from_millis(500),
            failures: 3,
            upstreams: Vec::new(),
        }
    }

    /// Discovery: while this node's database streams from the PostgreSQL server at
    /// `host:port` (`sender_host` and `sender_port` of `pg_stat_wal_receiver`, which come
    /// from the standby's `primary_conninfo`), its writes go to node `node`. Give one per
    /// server that may become the primary. When the standby is pointed at a promoted
    /// server, its node follows within one [`RoleConfig::interval`]; when it streams from
    /// no listed server (or the view is unreadable: its columns need superuser or
    /// `pg_read_all_stats`), the last discovered node stays, and before any, the
    /// configured primary name.
    pub fn upstream(mut self, host: &str, port: u16, node: impl Into<String>) -> Self {
        self.upstreams.push((format!("{host}:{port}"), node.into()));
        self
    }

    /// How often the role is read in the background (default 500 ms): the longest a
    /// promotion goes unnoticed when no write meets SQLSTATE 25006 first.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(10));
        self
    }
}

/// Follows `pg_is_in_recovery()` on this node's connection: not in recovery, this node is
/// the primary; in recovery, a replica of the configured primary. The state lives in a
/// [`PrimaryTracker`] (no I/O to read it); a background task reads the role every
/// [`RoleConfig::interval`] and at once when [`RoleFollower::refresh`] is called (after a
/// write failed with SQLSTATE 25006). The task stops when the follower is dropped.
#[derive(Debug, Clone)]
pub struct RoleFollower {
    /// The role, as last read.
    tracker: PrimaryTracker,
    /// Wakes the task for an immediate read.
    wake: Arc<Notify>,
    /// The configured primary name, which [`RoleFollower::set_primary`] changes.
    primary: Arc<std::sync::Mutex<String>>,
    /// The replication lag, read with the role (see [`RoleFollower::lag`]).
    lag: SampledLag,
    /// Aborts the task when the last clone goes.
    _task: Arc<AbortOnDrop>,
}

/// Aborts a task when dropped.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl RoleFollower {
    /// Starts following the role of the database behind `db`.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn spawn(db: DatabaseConnection, config: RoleConfig) -> Self {
        let (tracker, handle) = PrimaryTracker::manual(PrimaryState::unknown());
        let wake = Arc::new(Notify::new());
        let primary = Arc::new(std::sync::Mutex::new(config.primary.clone()));
        let lag = SampledLag::default();
        let task = tokio::spawn(follow(
            db,
            config,
            handle,
            wake.clone(),
            primary.clone(),
            lag.clone(),
        ));
        Self {
            tracker,
            wake,
            primary,
            lag,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    /// This node's replication lag, read with the role every interval: 0 on the primary
    /// and on a standby that has replayed all the WAL it received; otherwise the time
    /// since the last transaction it replayed was committed on the primary (`now() -
    /// pg_last_xact_replay_timestamp()`), in milliseconds.
    pub fn lag(&self) -> SampledLag {
        self.lag.clone()
    }

    /// The role and the primary, in memory.
    pub fn tracker(&self) -> PrimaryTracker {
        self.tracker.clone()
    }

    /// Changes the configured primary name (where this node's writes go while it is a
    /// standby and discovery names no node): for a deployment that learns the primary
    /// elsewhere (an environment change, a DNS or consensus watch). Takes effect at once.
    pub fn set_primary(&self, primary: impl Into<String>) {
        *self
            .primary
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = primary.into();
        self.wake.notify_one();
    }

    /// Reads the role again now (in the background; returns at once).
    pub fn refresh(&self) {
        metrics::counter!("postgres_role_refreshes_total").increment(1);
        self.wake.notify_one();
    }
}

/// Reads the role (and the lag) every interval or when woken, and publishes them.
async fn follow(
    db: DatabaseConnection,
    config: RoleConfig,
    handle: PrimaryHandle,
    wake: Arc<Notify>,
    configured: Arc<std::sync::Mutex<String>>,
    lag: SampledLag,
) {
    let mut failed = 0u32;
    // The node discovery last named (kept while the standby reconnects).
    let mut discovered: Option<String> = None;
    loop {
        match in_recovery(&db).await {
            Ok((recovering, millis)) => {
                failed = 0;
                lag.set(match millis {
                    Some(ms) => ReplicationLag::Millis(ms),
                    None => ReplicationLag::NothingReplayed,
                });
                handle.set(if recovering {
                    if !config.upstreams.is_empty()
                        && let Some(node) = upstream_node(&db, &config.upstreams).await
                    {
                        discovered = Some(node);
                    }
                    let primary = discovered.clone().unwrap_or_else(|| {
                        configured
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .clone()
                    });
                    PrimaryState::replica(Some(primary))
                } else {
                    PrimaryState::primary(Some(config.node.clone()))
                });
            }
            Err(e) => {
                failed += 1;
                lag.set(ReplicationLag::DatabaseUnreadable);
                tracing::warn!(error = %e, failed, "pg_is_in_recovery() failed");
                if failed >= config.failures {
                    handle.set(PrimaryState::unknown());
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(config.interval) => {}
            () = wake.notified() => {}
        }
    }
}

/// The role and the lag in one statement: 0 on the primary and on a standby that has
/// replayed all it received (an idle primary sends no transactions, so the time since the
/// last one would grow without any lag); otherwise the time since the last replayed
/// transaction committed; NULL when none was replayed since the standby started.
const ROLE_AND_LAG: &str = "SELECT pg_is_in_recovery(), CASE \
     WHEN NOT pg_is_in_recovery() THEN 0 \
     WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
     ELSE greatest(0, floor(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) \
     * 1000))::bigint END";

/// Whether the database is a standby (in recovery), and its lag in milliseconds.
async fn in_recovery(db: &DatabaseConnection) -> Result<(bool, Option<i64>), sea_orm::DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(DbBackend::Postgres, ROLE_AND_LAG))
        .await?
        .ok_or_else(|| sea_orm::DbErr::Custom("pg_is_in_recovery() returned no row".into()))?;
    let recovering = row
        .try_get_by_index(0)
        .map_err(|e| sea_orm::DbErr::Type(e.to_string()))?;
    let lag = row
        .try_get_by_index(1)
        .map_err(|e| sea_orm::DbErr::Type(e.to_string()))?;
    Ok((recovering, lag))
}

/// The node behind the server this standby streams from, if it is listed in `upstreams`.
async fn upstream_node(db: &DatabaseConnection, upstreams: &[(String, String)]) -> Option<String> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver \
             WHERE status = 'streaming'",
        ))
        .await
        .ok()??;
    let sender: Option<String> = row.try_get_by_index(0).ok()?;
    let sender = sender?;
    upstreams
        .iter()
        .find(|(address, _)| *address == sender)
        .map(|(_, node)| node.clone())
}
