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

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::get;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::http;
use super::replicator::{connect, copy, quote_path, version};

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

#[derive(Debug)]
pub(super) struct ClusterState {
    pub(super) primary: String,
    partitioned: HashSet<String>,
    pub(super) stopped: HashSet<String>,
    /// Each node's TXID: the primary's commit counter, or what a replica applied.
    txid: HashMap<String, u64>,
}

#[derive(Debug)]
pub(super) struct Shared {
    pub(super) nodes: Vec<EmulatedNode>,
    db_name: String,
    pub(super) state: Mutex<ClusterState>,
    /// `(node, one JSON line)`; `None` as node means every node.
    pub(super) events: broadcast::Sender<(Option<String>, String)>,
    /// Rounds of the replication loop so far, so a waiter knows it has seen recent commits.
    rounds: std::sync::atomic::AtomicU64,
}

/// A local LiteFS stand-in (see the module docs). Stops when dropped.
#[derive(Debug)]
pub struct LiteFsEmulator {
    shared: Arc<Shared>,
    tasks: Vec<AbortHandle>,
}

impl Drop for LiteFsEmulator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A directory or file could not be created.
    #[error("emulator file error: {0}")]
    Io(#[from] std::io::Error),
    /// A database could not be opened.
    #[error("emulator database error: {0}")]
    Db(#[from] DbErr),
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
            state: Mutex::new(ClusterState {
                primary,
                partitioned: HashSet::new(),
                stopped: HashSet::new(),
                txid: HashMap::new(),
            }),
            events,
            rounds: std::sync::atomic::AtomicU64::new(0),
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
        Ok(Self { shared, tasks })
    }

    /// Every node, in start order.
    pub fn nodes(&self) -> &[EmulatedNode] {
        &self.shared.nodes
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> Option<&EmulatedNode> {
        self.shared.nodes.iter().find(|n| n.name == name)
    }

    /// The current primary's name.
    pub fn primary(&self) -> String {
        self.shared
            .state
            .lock()
            .map(|s| s.primary.clone())
            .unwrap_or_default()
    }

    /// Moves the primary role to `name` (failover): `.primary` files are rewritten and a
    /// `primaryChange` event goes to every node. Writes the old primary committed but had
    /// not replicated yet are lost, as with LiteFS.
    pub fn promote(&self, name: &str) -> Result<(), EmulatorError> {
        if let Ok(mut state) = self.shared.state.lock() {
            state.primary = name.to_owned();
        }
        self.shared.write_files()?;
        for node in &self.shared.nodes {
            let line = serde_json::json!({
                "type": "primaryChange",
                "data": {"isPrimary": node.name == name, "hostname": name},
            });
            let _ = self
                .shared
                .events
                .send((Some(node.name.clone()), line.to_string()));
        }
        Ok(())
    }

    /// Stops replication to `name` until [`LiteFsEmulator::heal`].
    pub fn partition(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.partitioned.insert(name.to_owned());
        }
    }

    /// Resumes replication to `name`.
    pub fn heal(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.partitioned.remove(name);
        }
    }

    /// Stops node `name`: no replication, and its HTTP API answers 503.
    pub fn stop(&self, name: &str) {
        if let Ok(mut state) = self.shared.state.lock() {
            state.stopped.insert(name.to_owned());
        }
    }

    /// Waits until every running, connected replica has the primary's TXID (bounded).
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        use std::sync::atomic::Ordering;
        let until = Instant::now() + timeout;
        // Two full rounds of the loop after this call: it has seen every commit before it.
        let start = self.shared.rounds.load(Ordering::SeqCst);
        while self.shared.rounds.load(Ordering::SeqCst) < start + 2 {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        loop {
            let synced = self.shared.state.lock().is_ok_and(|s| {
                let top = s.txid.get(&s.primary).copied().unwrap_or(0);
                self.shared.nodes.iter().all(|n| {
                    s.stopped.contains(&n.name)
                        || s.partitioned.contains(&n.name)
                        || s.txid.get(&n.name).copied().unwrap_or(0) >= top
                })
            });
            if synced {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Shared {
    /// The current primary and the nodes it cannot reach (partitioned or stopped); `None`
    /// once the state's lock is poisoned.
    fn reach(&self) -> Option<(String, HashSet<String>)> {
        let s = self.state.lock().ok()?;
        let cut_off = s.partitioned.union(&s.stopped).cloned().collect();
        Some((s.primary.clone(), cut_off))
    }

    /// Writes every node's `.primary` and `<db>-pos` from the current state.
    fn write_files(&self) -> std::io::Result<()> {
        let (primary, txids) = match self.state.lock() {
            Ok(s) => (s.primary.clone(), s.txid.clone()),
            Err(_) => return Ok(()),
        };
        for node in &self.nodes {
            let marker = node.dir.join(".primary");
            if node.name == primary {
                let _ = std::fs::remove_file(&marker);
            } else {
                write_whole(&marker, format!("{primary}\n").as_bytes())?;
            }
            write_pos(
                &node.dir.join(format!("{}-pos", self.db_name)),
                txids.get(&node.name).copied().unwrap_or(0),
            )?;
        }
        Ok(())
    }
}

/// `<db>-pos` in LiteFS's format: TXID and post-apply checksum, 16 hex digits each.
fn write_pos(path: &Path, txid: u64) -> std::io::Result<()> {
    let checksum = txid.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    write_whole(path, format!("{txid:016x}/{checksum:016x}\n").as_bytes())
}

/// How often a connected replica hears from the primary (LiteFS's heartbeat interval).
const HEARTBEAT: Duration = Duration::from_secs(1);

/// How often `.lag` files are rewritten.
const LAG_REFRESH: Duration = Duration::from_millis(100);

/// Keeps every node's `.lag` current: 0 on the primary; on a replica, the time since it last
/// heard from the primary, which a heartbeat resets every second unless the replica is
/// partitioned or stopped.
async fn report_lag(shared: Arc<Shared>) {
    let mut heard: HashMap<String, Instant> = HashMap::new();
    let mut last_beat: Option<Instant> = None;
    let mut tick = tokio::time::interval(LAG_REFRESH);
    loop {
        tick.tick().await;
        let Some((primary, cut_off)) = shared.reach() else {
            return;
        };
        let now = Instant::now();
        let beat = last_beat.is_none_or(|at| now.duration_since(at) >= HEARTBEAT);
        if beat {
            last_beat = Some(now);
        }
        for node in &shared.nodes {
            let at = heard.entry(node.name.clone()).or_insert(now);
            if node.name == primary || (beat && !cut_off.contains(&node.name)) {
                *at = now;
            }
            let _ = write_lag(&node.dir.join(".lag"), now.duration_since(*at));
        }
    }
}

/// `.lag` in LiteFS's format: `%+010d\n` milliseconds, capped below LiteFS's
/// "not yet synced" value (`2147483647`).
fn write_lag(path: &Path, lag: Duration) -> std::io::Result<()> {
    let ms = i64::try_from(lag.as_millis()).map_or(i64::from(i32::MAX) - 1, |ms| {
        ms.min(i64::from(i32::MAX) - 1)
    });
    write_whole(path, format!("{ms:+010}\n").as_bytes())
}

/// Replaces `path`'s content through a rename, so that a reader never sees a half-written
/// file (LiteFS serves `.primary`, `<db>-pos` and `.lag` from memory, whole).
fn write_whole(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut fresh = path.as_os_str().to_owned();
    fresh.push(".new");
    std::fs::write(&fresh, content)?;
    std::fs::rename(fresh, path)
}

/// The replication loop: observe commits on the primary, copy them to the replicas after
/// the lag, keep TXIDs and `-pos` files, announce `tx` events.
async fn replicate(shared: Arc<Shared>, lag: Duration) {
    let mut readers: HashMap<String, DatabaseConnection> = HashMap::new();
    let mut writers: HashMap<String, DatabaseConnection> = HashMap::new();
    let mut last_primary = String::new();
    let mut seen = i64::MIN;
    let mut pending: Vec<(u64, Instant)> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some((primary, cut_off)) = shared.reach() else {
            return;
        };
        if primary != last_primary {
            // A new primary: replicas copy from its file from now on, and its TXIDs continue
            // above every node's, so that no replica looks ahead of it.
            writers.clear();
            pending.clear();
            seen = i64::MIN;
            last_primary = primary.clone();
            if let Ok(mut s) = shared.state.lock() {
                let top = s.txid.values().copied().max().unwrap_or(0);
                s.txid.insert(primary.clone(), top);
            }
        }
        let Some(primary_node) = shared.nodes.iter().find(|n| n.name == primary) else {
            continue;
        };
        if !readers.contains_key(&primary) {
            match connect(&primary_node.db_path, "ro").await {
                Ok(c) => {
                    readers.insert(primary.clone(), c);
                }
                Err(_) => continue,
            }
        }
        let Some(reader) = readers.get(&primary) else {
            continue;
        };
        if let Some(v) = version(reader).await
            && v != seen
        {
            // The first observation counts as a change too: whatever the primary held
            // before must reach the replicas.
            seen = v;
            let txid = {
                let Ok(mut s) = shared.state.lock() else {
                    return;
                };
                let t = s.txid.entry(primary.clone()).or_insert(0);
                *t += 1;
                *t
            };
            let _ = write_pos(
                &primary_node.dir.join(format!("{}-pos", shared.db_name)),
                txid,
            );
            pending.push((txid, Instant::now()));
        }
        shared
            .rounds
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let now = Instant::now();
        let Some(due) = pending
            .iter()
            .rev()
            .find(|(_, at)| now.duration_since(*at) >= lag)
            .map(|(t, _)| *t)
        else {
            continue;
        };
        pending.retain(|(t, _)| *t > due);
        for node in &shared.nodes {
            if node.name == primary || cut_off.contains(&node.name) {
                continue;
            }
            let applied = shared
                .state
                .lock()
                .map(|s| s.txid.get(&node.name).copied().unwrap_or(0))
                .unwrap_or(0);
            if applied >= due {
                continue;
            }
            if !writers.contains_key(&node.name) {
                let Ok(conn) = connect(&node.db_path, "rw").await else {
                    continue;
                };
                let attach = format!(
                    "ATTACH DATABASE {} AS src",
                    quote_path(&primary_node.db_path)
                );
                if conn.execute_unprepared(&attach).await.is_err() {
                    continue;
                }
                writers.insert(node.name.clone(), conn);
            }
            let Some(conn) = writers.get(&node.name) else {
                continue;
            };
            match copy(conn).await {
                Ok(()) => {
                    if let Ok(mut s) = shared.state.lock() {
                        s.txid.insert(node.name.clone(), due);
                    }
                    let _ = write_pos(&node.dir.join(format!("{}-pos", shared.db_name)), due);
                    let line = serde_json::json!({
                        "type": "tx",
                        "db": shared.db_name,
                        "data": {"txID": format!("{due:016x}"), "postApplyChecksum": format!("{:016x}", due.wrapping_mul(0x9e37_79b9_7f4a_7c15)), "pageSize": 4096, "commit": 0, "timestamp": ""},
                    });
                    let _ = shared
                        .events
                        .send((Some(node.name.clone()), line.to_string()));
                }
                Err(e) => {
                    tracing::warn!(replica = %node.name, error = %e, "emulated replication failed; retrying")
                }
            }
        }
    }
}
