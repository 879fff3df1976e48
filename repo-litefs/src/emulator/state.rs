//! The emulated cluster's state, shared by the API, the HTTP endpoints and the loops: who
//! is primary, who holds the lease (may commit), who is cut off, every node's TXID.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use repo_core::CommitGuard;
use tokio::sync::{broadcast, watch};

use super::EmulatedNode;
use super::files::{write_pos, write_whole};
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
    /// The primary the replication loop copies from, and its generation (one per tenure).
    pub(super) source: Option<(String, u64)>,
    /// The last generation handed out.
    pub(super) generation: u64,
}

impl ClusterState {
    /// The state of a cluster whose primary, holding the lease, is `primary`.
    pub(super) fn new(primary: String) -> Self {
        Self {
            lease: Some(primary.clone()),
            primary,
            handover_to: None,
            partitioned: HashSet::new(),
            stopped: HashSet::new(),
            txid: HashMap::new(),
            lineage: HashMap::new(),
            source: None,
            generation: 0,
        }
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
    /// Looks of the replication loop at the primary so far, so that a waiter knows the
    /// loop has seen recent commits; also sent after every state change the loop makes.
    pub(super) rounds: watch::Sender<u64>,
    /// Makes the replication loop look at the primary at once.
    pub(super) wake: Wake,
    /// Bumped whenever a node's position (lineage, TXID) changes.
    pub(super) positions: watch::Sender<u64>,
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
    /// lets through wakes the replication loop.
    pub(super) fn commit_guard(self: &Arc<Self>, node: &str) -> CommitGuard {
        let shared = Arc::downgrade(self);
        let node = node.to_owned();
        CommitGuard::new(move || {
            let Some(shared) = shared.upgrade() else {
                // The emulator is gone: no lease for anyone.
                return false;
            };
            let allowed = shared.state.lock().is_ok_and(|s| s.may_commit(&node));
            if allowed {
                shared.wake.wake();
            }
            allowed
        })
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

    /// Tells waiters that the loop looked at the primary, or changed the state.
    pub(super) fn round(&self) {
        self.rounds.send_modify(|r| *r += 1);
    }
}
