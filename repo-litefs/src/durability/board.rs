//! `CandidateBoard`: the positions replicas reported to this node, and waiting on them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::time::Instant;

use super::{Candidates, Position};

/// The most nodes whose reports are kept.
pub(crate) const MAX_NODES: usize = 1024;

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
    /// Records that `node` is at `position` (`None`: at a position that counts for
    /// nothing). At most [`MAX_NODES`] nodes are kept: reports come from authenticated nodes
    /// only, but a misbehaving one must not grow the map without bound.
    pub(crate) fn record(&self, node: &str, position: Option<Position>) {
        if let Ok(mut reports) = self.reports.lock() {
            let Some(position) = position else {
                reports.remove(node);
                return;
            };
            if reports.len() >= MAX_NODES && !reports.contains_key(node) {
                tracing::warn!(node, "position report ignored: too many reporting nodes");
                return;
            }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(txid: u64) -> Position {
        Position {
            lineage: 1,
            txid,
            checksum: 0,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_ends_when_the_last_candidate_reports_or_at_its_bound() {
        let board = CandidateBoard::default();
        let rule = Candidates::named(["p", "a", "b"]);
        board.record("a", Some(at(5)));
        let later = board.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            later.record("b", Some(at(4)));
            tokio::time::sleep(Duration::from_millis(10)).await;
            later.record("b", Some(at(5)));
        });
        let until = Instant::now() + Duration::from_secs(1);
        assert_eq!(board.wait("p", &rule, at(5), until).await, Ok(()));
        let until = Instant::now() + Duration::from_millis(50);
        assert_eq!(
            board.wait("p", &rule, at(6), until).await,
            Err(vec!["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn the_board_keeps_a_bounded_number_of_nodes() {
        let board = CandidateBoard::default();
        for i in 0..=MAX_NODES {
            board.record(&format!("n{i}"), Some(at(1)));
        }
        let reports = board.reports.lock().expect("lock");
        assert_eq!(reports.len(), MAX_NODES);
        assert!(!reports.contains_key(&format!("n{MAX_NODES}")));
    }
}
