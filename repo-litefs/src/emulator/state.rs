//! The emulated cluster's state, shared by the API, the HTTP endpoints and the loops: who
//! is primary, who holds the lease (may commit), who is cut off, every node's TXID.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use repo_core::CommitGuard;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use super::EmulatedNode;
use super::commit_log::{Changed, CommitLog};
use super::commit_reports::ReportReader;
use super::files::{write_pos, write_whole};
use super::journal;
use super::pace::Wake;

#[derive(Debug)]
pub(super) struct ClusterState {
    /// The node `.primary` and the events name: the primary, or the one taking over.
    pub(super) primary: String,
    /// The node that may commit (holds the lease); `None` between a promotion and the end
    /// of the old primary's last commit, during a handover, and after the primary was
    /// killed.
    pub(super) lease: Option<String>,
    /// A graceful handover under way, to this node.
    pub(super) handover_to: Option<String>,
    /// Nodes that receive no replication.
    pub(super) partitioned: HashSet<String>,
    /// Nodes killed: no replication, no commits, HTTP API answers 503.
    pub(super) stopped: HashSet<String>,
    /// Each node's TXID: the primary's commit counter, or what a replica applied.
    pub(super) txid: HashMap<String, u64>,
    /// Each node's lineage: the generation of the primary whose data it holds, so that
    /// TXIDs of different primaries' tenures are never compared.
    pub(super) lineage: HashMap<String, u64>,
    /// The current tenure: the node whose file is the cluster's history now, the lineage
    /// its commits belong to, and when it began. A new tenure begins when the lease moves to
    /// another node, before that node can commit.
    pub(super) tenure: Tenure,
    /// The last generation handed out.
    pub(super) generation: u64,
}

/// One primary's tenure (see [`ClusterState::tenure`]).
#[derive(Debug, Clone)]
pub(super) struct Tenure {
    /// The primary.
    pub(super) node: String,
    /// The lineage of what it commits: replicas copying from it hold this lineage.
    pub(super) generation: u64,
    /// When it began: a commit by this node before then belongs to an earlier tenure.
    pub(super) since: Instant,
}

impl ClusterState {
    /// The state of a cluster whose primary, holding the lease, is `primary`.
    pub(super) fn new(primary: String) -> Self {
        Self {
            lease: Some(primary.clone()),
            tenure: Tenure {
                node: primary.clone(),
                generation: 1,
                since: Instant::now(),
            },
            lineage: HashMap::from([(primary.clone(), 1)]),
            primary,
            handover_to: None,
            partitioned: HashSet::new(),
            stopped: HashSet::new(),
            txid: HashMap::new(),
            generation: 1,
        }
    }

    /// Begins `node`'s tenure (a new lineage) unless it already holds the current one.
    pub(super) fn begin_tenure(&mut self, node: &str) {
        if self.tenure.node == node {
            return;
        }
        self.generation += 1;
        self.tenure = Tenure {
            node: node.to_owned(),
            generation: self.generation,
            since: Instant::now(),
        };
        self.lineage.insert(node.to_owned(), self.generation);
    }

    /// Grants `node` the lease (in its tenure, begun if need be) when it may take it: it
    /// is the primary, not stopped, no handover is under way and nobody holds the lease.
    pub(super) fn grant(&mut self, node: &str) {
        if self.primary == node
            && self.lease.is_none()
            && self.handover_to.is_none()
            && !self.stopped.contains(node)
        {
            self.begin_tenure(node);
            self.lease = Some(node.to_owned());
        }
    }

    /// Whether `node` holds what the primary holds: the same lineage and TXID.
    pub(super) fn caught_up(&self, node: &str) -> bool {
        let position = |n: &str| (self.lineage.get(n).copied(), self.txid.get(n).copied());
        position(node) == position(&self.primary)
    }

    /// Nodes that replication does not reach: partitioned or stopped.
    pub(super) fn cut_off(&self) -> HashSet<String> {
        self.partitioned.union(&self.stopped).cloned().collect()
    }

    /// Whether `node` may commit now.
    pub(super) fn may_commit(&self, node: &str) -> bool {
        self.lease.as_deref() == Some(node) && !self.stopped.contains(node)
    }
}

/// What is known of one node's commits (see [`super::commit_log`]).
#[derive(Debug, Default)]
pub(super) struct NodeCommits {
    /// The commits reported, by counter.
    log: CommitLog,
    /// Where the emulator is in the node's report file (a node in another process).
    reports: ReportReader,
}

#[derive(Debug)]
pub(crate) struct Shared {
    /// Every node, in start order.
    pub(super) nodes: Vec<EmulatedNode>,
    /// The database file's name in each node's directory.
    pub(super) db_name: String,
    /// See [`ClusterState`].
    pub(super) state: Mutex<ClusterState>,
    /// `(node, one JSON line)`; `None` as node means every node.
    pub(super) events: broadcast::Sender<(Option<String>, String)>,
    /// Rounds of the replication loop ended so far. A round ends only after it looked at
    /// the primary (or switched to a new one), so two rounds ended after a commit mean
    /// the loop has seen it; the loop's state changes become visible at a round's end.
    pub(super) rounds: watch::Sender<u64>,
    /// Makes the replication loop look at the primary at once.
    pub(super) wake: Wake,
    /// Bumped whenever a node's position (lineage, TXID) changes.
    pub(super) positions: watch::Sender<u64>,
    /// How many times the loop has read the primary (whole or the pages commits listed).
    pub(super) primary_reads: std::sync::atomic::AtomicU64,
    /// How many of those reads were of the whole file.
    pub(super) whole_reads: std::sync::atomic::AtomicU64,
    /// What each node's commits wrote, for reads of only those pages.
    pub(super) commits: Mutex<HashMap<String, NodeCommits>>,
}

impl Shared {
    /// The current primary and the nodes it cannot reach (partitioned or stopped); `None`
    /// once the state's lock is poisoned.
    pub(super) fn reach(&self) -> Option<(String, HashSet<String>)> {
        let s = self.state.lock().ok()?;
        Some((s.primary.clone(), s.cut_off()))
    }

    /// The node named `name`.
    pub(super) fn node(&self, name: &str) -> Option<&EmulatedNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// A guard that lets `node`'s writer commit only while it holds the lease; a commit it
    /// lets through wakes the replication loop, and what it is about to write is recorded
    /// in the node's [`CommitLog`] (forgotten if the transaction rolls back).
    pub(super) fn commit_guard(self: &Arc<Self>, node: &str) -> CommitGuard {
        let db_path = self.node(node).map(|n| n.db_path.clone());
        let (shared, name) = (Arc::downgrade(self), node.to_owned());
        let (on_rollback, rolled_back_db) = (shared.clone(), db_path.clone());
        let rolled_back_name = name.clone();
        CommitGuard::new(move || {
            let Some(shared) = shared.upgrade() else {
                // The emulator is gone: no lease for anyone.
                return false;
            };
            let allowed = shared.state.lock().is_ok_and(|s| s.may_commit(&name));
            if allowed {
                if let Some(commit) = db_path.as_deref().and_then(journal::pending_commit) {
                    shared.log(&name, |log| log.record(commit));
                }
                shared.wake.wake();
            }
            allowed
        })
        .on_rollback(move || {
            if let Some(shared) = on_rollback.upgrade() {
                let counter = rolled_back_db.as_deref().and_then(journal::file_counter);
                shared.log(&rolled_back_name, |log| log.rolled_back(counter));
            }
        })
    }

    /// Runs `f` on `node`'s commit log.
    pub(super) fn log<T>(&self, node: &str, f: impl FnOnce(&mut CommitLog) -> T) -> Option<T> {
        let mut commits = self.commits.lock().ok()?;
        Some(f(&mut commits.entry(node.to_owned()).or_default().log))
    }

    /// What `node`'s commits between its file change counters `from` and `to` wrote, as its
    /// guard reported in this process or its process reported in its report file; `None`
    /// when one of them is unknown.
    /// The report file is read here only when what was taken in before (see
    /// [`Shared::take_in_reports`]) does not cover the commits: the caller holds SQLite's
    /// lock on the primary, which its commits wait for.
    pub(super) fn changes(&self, node: &str, from: u32, to: u32) -> Option<Changed> {
        let dir = &self.node(node)?.dir;
        let mut commits = self.commits.lock().ok()?;
        let NodeCommits { log, reports } = commits.entry(node.to_owned()).or_default();
        if !log.covers(from, to) {
            reports.take_in(dir, log);
        }
        log.changes(from, to)
    }

    /// Takes in what `node`'s process reported in its report file so far.
    pub(super) fn take_in_reports(&self, node: &str) {
        let Some(dir) = self.node(node).map(|n| &n.dir) else {
            return;
        };
        if let Ok(mut commits) = self.commits.lock() {
            let NodeCommits { log, reports } = commits.entry(node.to_owned()).or_default();
            reports.take_in(dir, log);
        }
    }

    /// Writes every node's `.primary` and `<db>-pos` from the current state.
    pub(super) fn write_files(&self) -> std::io::Result<()> {
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

    /// Announces `primary` as the primary on every node's `/events`.
    pub(super) fn announce(&self, primary: &str) {
        for node in &self.nodes {
            let line = serde_json::json!({
                "type": "primaryChange",
                "data": {"isPrimary": node.name == primary, "hostname": primary},
            });
            let _ = self
                .events
                .send((Some(node.name.clone()), line.to_string()));
        }
    }

    /// Tells position reporters that a node's position changed.
    pub(super) fn moved(&self) {
        self.positions.send_modify(|p| *p = p.wrapping_add(1));
    }

    /// Tells waiters that a round of the loop ended (see [`Shared::rounds`]).
    pub(super) fn round(&self) {
        self.rounds.send_modify(|r| *r += 1);
    }
}
