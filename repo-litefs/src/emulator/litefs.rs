//! `LiteFsEmulator`: N LiteFS-like nodes on one machine, for tests and local clusters.
//!
//! Per node: a directory holding the database, `.primary` on replicas (the primary's
//! hostname and a newline), `<db>-pos` in LiteFS's format (`%016x/%016x\n`: TXID /
//! checksum), `.lag` in LiteFS's format (`%+010d\n` milliseconds since the node last heard
//! from the primary; heartbeats every second while connected, as LiteFS sends them; `0` on
//! the primary; growing while partitioned or stopped), and an HTTP endpoint on 127.0.0.1 serving `/info` and `/events` in LiteFS's
//! JSON shapes (`init`, `primaryChange`, `tx`). Committed data reaches the replicas by
//! copying from the primary after a configurable lag. The primary role can be moved
//! (failover), replication to a node stopped (partition), and a node stopped (no
//! replication, its HTTP API answers 503). **Production runs real LiteFS.**
//!
//! The TXID is a counter of the commits the emulator observed on the primary (through
//! `PRAGMA data_version`), so several commits between two observations count once; it only
//! grows while one node stays primary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use repo_core::CommitGuard;
use sea_orm::DbErr;
use tokio::sync::{broadcast, watch};
use tokio::task::AbortHandle;

use super::files::{report_lag, write_lag};
use super::http;
use super::pace::{Wake, wake_on_commits};
use super::replication::replicate;
use super::replicator::connect;
use super::state::{ClusterState, Shared};

/// One emulated node: where its files are and where its HTTP API listens.
#[derive(Debug, Clone)]
pub struct EmulatedNode {
    /// The node's hostname, as `.primary` and the events name it.
    pub name: String,
    /// The node's mount directory (`.primary`, `<db>-pos`, the database).
    pub dir: PathBuf,
    /// The database file the application opens (read-only on replicas).
    pub db_path: PathBuf,
    /// The HTTP API, e.g. `http://127.0.0.1:41234`.
    pub api_url: String,
}

/// A local LiteFS stand-in (see the module docs). Stops when dropped.
#[derive(Debug)]
pub struct LiteFsEmulator {
    /// The state shared with the loops and the HTTP endpoints.
    shared: Arc<Shared>,
    /// The HTTP servers and the loops; aborted on drop.
    tasks: Vec<AbortHandle>,
}

impl Drop for LiteFsEmulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Why the emulator could not start, or could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A directory or file could not be created.
    #[error("emulator file error: {0}")]
    Io(#[from] std::io::Error),
    /// A database could not be opened.
    #[error("emulator database error: {0}")]
    Db(#[from] DbErr),
    /// No node has this name.
    #[error("no emulated node is named {0:?}")]
    UnknownNode(String),
    /// A handover's target is partitioned or stopped: it cannot receive the primary's data.
    #[error("cannot hand over to {0:?}: it is partitioned or stopped")]
    Unreachable(String),
    /// A handover did not finish in time (it goes on in the background).
    #[error("the handover to {0:?} did not finish in time")]
    HandoverTimeout(String),
}

impl LiteFsEmulator {
    /// Starts nodes `names` under `dir` (one subdirectory each) with database file
    /// `db_name`; the first node is the primary; data reaches replicas `lag` after commit.
    pub async fn start(
        dir: &Path,
        names: &[&str],
        db_name: &str,
        lag: Duration,
    ) -> Result<Self, EmulatorError> {
        let mut nodes = Vec::new();
        let mut listeners = Vec::new();
        for name in names {
            let node_dir = dir.join(name);
            std::fs::create_dir_all(&node_dir)?;
            let db_path = node_dir.join(db_name);
            // Create the file so the application can open it (read-only on replicas).
            connect(&db_path, "rwc").await?.close().await?;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr: SocketAddr = listener.local_addr()?;
            listeners.push(listener);
            nodes.push(EmulatedNode {
                name: (*name).to_owned(),
                dir: node_dir,
                db_path,
                api_url: format!("http://{addr}"),
            });
        }
        let primary = names.first().map(|n| (*n).to_owned()).unwrap_or_default();
        let (events, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            nodes,
            db_name: db_name.to_owned(),
            state: Mutex::new(ClusterState::new(primary)),
            events,
            rounds: watch::Sender::new(0),
            wake: Wake::default(),
            positions: watch::Sender::new(0),
            primary_reads: std::sync::atomic::AtomicU64::new(0),
            whole_reads: std::sync::atomic::AtomicU64::new(0),
            commits: std::sync::Mutex::default(),
        });
        shared.write_files()?;
        for node in &shared.nodes {
            write_lag(&node.dir.join(".lag"), Duration::ZERO)?;
        }
        let mut tasks = Vec::new();
        for (node, listener) in shared.nodes.iter().zip(listeners) {
            let app = axum::Router::new()
                .route("/info", get(http::info))
                .route("/events", get(http::events))
                .with_state((shared.clone(), node.name.clone()));
            tasks.push(
                tokio::spawn(async move {
                    axum::serve(listener, app).await.ok();
                })
                .abort_handle(),
            );
        }
        tasks.push(tokio::spawn(replicate(shared.clone(), lag)).abort_handle());
        tasks.push(tokio::spawn(report_lag(shared.clone())).abort_handle());
        let journals = shared
            .nodes
            .iter()
            .map(|n| n.dir.join(format!("{}-journal", shared.db_name)))
            .collect();
        tasks.push(tokio::spawn(wake_on_commits(shared.wake.clone(), journals)).abort_handle());
        Ok(Self { shared, tasks })
    }

    /// Every node, in start order.
    pub fn nodes(&self) -> &[EmulatedNode] {
        &self.shared.nodes
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&EmulatedNode> {
        self.shared.node(name)
    }

    /// The current primary's name (during a failover: the node taking over).
    pub fn primary(&self) -> String {
        self.shared
            .state
            .lock()
            .map(|s| s.primary.clone())
            .unwrap_or_default()
    }

    /// The guard to give node `name`'s writer ([`repo_core::WriterConfig::commit_guard`]):
    /// it lets a commit through only while `name` holds the lease, which is how the
    /// emulator fences a demoted or killed primary (see the module docs).
    pub fn commit_guard(&self, name: &str) -> CommitGuard {
        self.shared.commit_guard(name)
    }

    /// Node `name`'s position source, for `DurabilityConfig::position_source`: a replica's
    /// position is the lineage (the primary tenure whose data it holds) and TXID it was
    /// last brought to; the primary's position after a commit is its lineage and the TXID
    /// of the first look at its file that began after the commit.
    pub fn position_source(
        &self,
        name: &str,
    ) -> std::sync::Arc<dyn crate::durability::PositionSource> {
        std::sync::Arc::new(super::position::EmulatedPosition::new(&self.shared, name))
    }

    /// How many times the replication loop has read the primary so far (whole, or only the
    /// pages its guarded commits wrote): a round that finds its TXID already held by the
    /// last read does not read it again (see the [module docs](super)).
    pub fn primary_reads(&self) -> u64 {
        self.shared
            .primary_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many of [`LiteFsEmulator::primary_reads`] read the primary's whole file: the
    /// first read of each primary, and any read that follows a commit the emulator did not
    /// see written (one outside the guarded writer; see the [module docs](super)).
    pub fn whole_reads(&self) -> u64 {
        self.shared
            .whole_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Node `name`'s position now (lineage and TXID), if it has one.
    pub fn position(&self, name: &str) -> Option<crate::durability::Position> {
        self.shared.position(name)
    }

    /// Whether node `name` may commit now (holds the lease).
    pub fn may_commit(&self, name: &str) -> bool {
        self.shared.state.lock().is_ok_and(|s| s.may_commit(name))
    }

    /// An abrupt failover to `name`, as when LiteFS's lease passes to another candidate:
    /// the old primary is fenced at once (its guarded commits are refused), `.primary`
    /// files are rewritten and a `primaryChange` event goes to every node; `name` takes the
    /// lease, from its own position, once a commit the old primary had let through before
    /// the fence has ended. What the old primary committed but had not replicated is lost,
    /// and discarded from its file when it next receives replication.
    pub fn promote(&self, name: &str) -> Result<(), EmulatorError> {
        if self.shared.node(name).is_none() {
            return Err(EmulatorError::UnknownNode(name.to_owned()));
        }
        if let Ok(mut state) = self.shared.state.lock() {
            if state.primary == name && state.lease.as_deref() == Some(name) {
                return Ok(());
            }
            state.primary = name.to_owned();
            state.lease = None;
            state.handover_to = None;
        }
        self.shared.write_files()?;
        self.shared.announce(name);
        self.shared.wake.wake();
        Ok(())
    }

    /// A graceful handover to `name` (LiteFS's `promote: true`, or a lease handed over on
    /// shutdown): the primary stops committing, `name` receives everything it committed,
    /// then takes the lease; nothing acknowledged is lost. Fails at once if `name` is
    /// partitioned or stopped; waits at most `timeout` for the handover to finish.
    pub async fn handover(&self, name: &str, timeout: Duration) -> Result<(), EmulatorError> {
        if self.shared.node(name).is_none() {
            return Err(EmulatorError::UnknownNode(name.to_owned()));
        }
        {
            let Ok(mut state) = self.shared.state.lock() else {
                return Ok(());
            };
            if state.primary == name {
                return Ok(());
            }
            if state.cut_off().contains(name) {
                return Err(EmulatorError::Unreachable(name.to_owned()));
            }
            state.lease = None;
            state.handover_to = Some(name.to_owned());
        }
        self.shared.wake.wake();
        let mut rounds = self.shared.rounds.subscribe();
        let done = async {
            loop {
                let finished = self.shared.state.lock().map_or(true, |s| {
                    s.primary == name && s.lease.as_deref() == Some(name)
                });
                if finished || rounds.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, done)
            .await
            .map_err(|_| EmulatorError::HandoverTimeout(name.to_owned()))
    }

    /// Stops replication to `name` until [`LiteFsEmulator::heal`]. The node keeps its role:
    /// a partitioned primary keeps committing, its replicas stop receiving.
    pub fn partition(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.partitioned.insert(name.to_owned());
        }
    }

    /// Resumes replication to `name`: it catches up at once.
    pub fn heal(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.partitioned.remove(name);
        }
        self.shared.wake.wake();
    }

    /// Kills node `name`, as a crashed machine: it receives no replication, its HTTP API
    /// answers 503, and it can no longer commit; a killed primary leaves the cluster with
    /// no lease until another node is promoted (LiteFS would elect one after the lease's
    /// TTL; the emulator waits for [`LiteFsEmulator::promote`]).
    pub fn kill(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.stopped.insert(name.to_owned());
            if state.lease.as_deref() == Some(name) {
                state.lease = None;
            }
        }
    }

    /// The same as [`LiteFsEmulator::kill`].
    pub fn stop(&self, name: &str) {
        self.kill(name);
    }

    /// Restarts a killed node: its API answers again and replication reaches it, replacing
    /// whatever its file held that the primary does not (its unreplicated tail, if it was a
    /// primary); a restarted node that is still the primary takes the lease again.
    pub fn restart(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.stopped.remove(name);
            // Within its tenure only: a tenure begins in the replication loop, once the
            // previous primary's last commit has ended.
            if state.tenure.node == name {
                state.grant(name);
            }
        }
        self.shared.wake.wake();
    }

    /// Makes the replication loop look at the primary now (it looks every few milliseconds
    /// when idle, every millisecond while commits come, and at once after a guarded commit).
    pub fn wake(&self) {
        self.shared.wake.wake();
    }

    /// How often the replication loop looks at an idle primary for a commit nothing
    /// announced (default 50 ms; see the [module docs](super)). Commits that end in SQLite's
    /// default journal mode are seen at once anyway, where the kernel reports file events;
    /// a test sets a long period to check that they are. Periods over a day count as a day.
    pub fn set_idle_look(&self, period: Duration) {
        self.shared.wake.set_idle(period);
    }

    /// Waits until every running, connected replica has the primary's TXID (bounded).
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let mut rounds = self.shared.rounds.subscribe();
        self.shared.wake.wake();
        let start = *rounds.borrow_and_update();
        let synced = async {
            loop {
                // Two looks after this call: the second began after it, so it has seen
                // every commit made before it.
                let looked = *rounds.borrow_and_update() >= start + 2;
                if looked && self.synced() {
                    return;
                }
                if rounds.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, synced).await.is_ok()
    }

    /// Whether every running, connected replica has the primary's TXID.
    fn synced(&self) -> bool {
        self.shared.state.lock().is_ok_and(|s| {
            let cut_off = s.cut_off();
            self.shared
                .nodes
                .iter()
                .all(|n| cut_off.contains(&n.name) || s.caught_up(&n.name))
        })
    }
}
