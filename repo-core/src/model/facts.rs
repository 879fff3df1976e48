//! `CallFacts`: what the layers learn about one call, shared by every attempt.
//!
//! A request is cloned for each retry attempt; the clones share one `CallFacts`, so the
//! outer layers (telemetry, timeout) see what the inner ones did: how many attempts ran,
//! whether the write was handed to a database or sent to another node (after which it may
//! have committed), and whether it was forwarded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};

/// A node's role in its cluster: whether it writes or forwards its writes. The one role
/// type of the workspace (`repo_litefs::tracker::Role` is this type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeRole {
    /// Nothing reliable says which (yet).
    Unknown,
    /// This node can write.
    Primary,
    /// This node forwards its writes.
    Replica,
}

impl std::fmt::Display for NodeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl NodeRole {
    /// `unknown`, `primary` or `replica`.
    pub fn label(self) -> &'static str {
        match self {
            NodeRole::Unknown => "unknown",
            NodeRole::Primary => "primary",
            NodeRole::Replica => "replica",
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => NodeRole::Primary,
            2 => NodeRole::Replica,
            _ => NodeRole::Unknown,
        }
    }

    fn to_u8(self) -> u8 {
        match self {
            NodeRole::Unknown => 0,
            NodeRole::Primary => 1,
            NodeRole::Replica => 2,
        }
    }
}

/// Facts about one call, written by the layers that learn them.
#[derive(Debug, Clone, Default)]
pub struct CallFacts(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Attempts started so far (the retry layer counts them; 0 means no retry layer).
    attempts: AtomicU32,
    /// The write reached a database or left the node: it may have committed from then on.
    dispatched: AtomicBool,
    /// The write was sent to another node.
    forwarded: AtomicBool,
    /// The node's role, when a layer knows it.
    role: AtomicU8,
    /// Some attempt ended with an unknown outcome (it may have committed).
    ambiguous: AtomicBool,
}

impl CallFacts {
    /// Records the start of an attempt and returns its number (1 for the first).
    pub fn start_attempt(&self) -> u32 {
        self.0.attempts.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The number of attempts started (at least 1 once the call ran).
    pub fn attempts(&self) -> u32 {
        self.0.attempts.load(Ordering::SeqCst).max(1)
    }

    /// Records that the write was handed to a database or sent to another node.
    pub fn mark_dispatched(&self) {
        self.0.dispatched.store(true, Ordering::SeqCst);
    }

    /// Whether the write may have committed (it reached a database or left the node).
    pub fn dispatched(&self) -> bool {
        self.0.dispatched.load(Ordering::SeqCst)
    }

    /// Records that the write was sent to another node.
    pub fn mark_forwarded(&self) {
        self.0.forwarded.store(true, Ordering::SeqCst);
        self.mark_dispatched();
    }

    /// Whether the write was sent to another node.
    pub fn forwarded(&self) -> bool {
        self.0.forwarded.load(Ordering::SeqCst)
    }

    /// Records that an attempt ended with an unknown outcome.
    pub fn mark_ambiguous(&self) {
        self.0.ambiguous.store(true, Ordering::SeqCst);
    }

    /// Whether some attempt ended with an unknown outcome.
    pub fn ambiguous(&self) -> bool {
        self.0.ambiguous.load(Ordering::SeqCst)
    }

    /// Records the node's role.
    pub fn set_role(&self, role: NodeRole) {
        self.0.role.store(role.to_u8(), Ordering::SeqCst);
    }

    /// The node's role, if a layer reported it.
    pub fn role(&self) -> NodeRole {
        NodeRole::from_u8(self.0.role.load(Ordering::SeqCst))
    }
}
