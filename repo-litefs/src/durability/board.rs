//! `CandidateBoard`: the positions replicas reported to this node, and waiting on them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::time::Instant;

use super::{Candidates, Position};

/// The latest position each replica reported (shared by the server that receives the
/// reports and every write waiting on them).
#[derive(Debug, Clone, Default)]
pub(crate) struct CandidateBoard {
    /// By node name, the last position it reported.
    reports: Arc<Mutex<HashMap<String, Position>>>,
    /// Bumped at every report, to wake the waiters.
    version: Arc<watch::Sender<u64>>,
}

impl CandidateBoard {
    /// Records that `node` is at `position`.
    pub(crate) fn record(&self, node: &str, position: Position) {
        if let Ok(mut reports) = self.reports.lock() {
            reports.insert(node.to_owned(), position);
        }
        self.version.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// What `candidates` still lack of `target` now.
    fn missing(&self, me: &str, candidates: &Candidates, target: Position) -> Vec<String> {
        match self.reports.lock() {
            Ok(reports) => candidates.missing(me, &reports, target),
            Err(_) => vec!["(reports unreadable)".to_owned()],
        }
    }

    /// Waits until `candidates` hold `target` (primary `me` excepted), or `until`; returns
    /// what was still missing then.
    pub(crate) async fn wait(
        &self,
        me: &str,
        candidates: &Candidates,
        target: Position,
        until: Instant,
    ) -> Result<(), Vec<String>> {
        let mut version = self.version.subscribe();
        loop {
            version.mark_unchanged();
            let missing = self.missing(me, candidates, target);
            if missing.is_empty() {
                return Ok(());
            }
            match tokio::time::timeout_at(until, version.changed()).await {
                Ok(Ok(())) => {}
                // The sender lives as long as `self`: a closed channel cannot happen, but
                // ends the wait if it did.
                Ok(Err(_)) | Err(_) => return Err(self.missing(me, candidates, target)),
            }
        }
    }
}
