//! `DurabilityGate`: on the primary, holds a committed write's answer until the lease
//! candidates hold it.

use std::sync::Arc;
use std::time::Duration;

use repo_core::{Durability, RejectReason, RepoError};
use tokio::time::Instant;

use super::board::CandidateBoard;
use super::{Candidates, Position, PositionSource};

/// The longest part of a call's remaining time the gate leaves for the answer to travel
/// back: it stops waiting that much before the deadline, so the caller gets the typed
/// `NotReplicated` rather than its own timeout.
const ANSWER_MARGIN: Duration = Duration::from_millis(100);

/// The primary's side of [`Durability::Candidates`] (see the module docs).
#[derive(Debug, Clone)]
pub struct DurabilityGate {
    /// This node's name, skipped among the candidates.
    node: String,
    /// What a write that does not choose gets.
    default: Durability,
    /// Who must hold a `Candidates` write.
    candidates: Candidates,
    /// The longest wait.
    wait: Duration,
    /// This node's position after a commit; `None`: `Candidates` writes are refused.
    source: Option<Arc<dyn PositionSource>>,
    /// What the replicas reported.
    pub(crate) board: CandidateBoard,
}

impl DurabilityGate {
    /// A gate for node `node` (its lease hostname) with `config`.
    pub fn new(node: impl Into<String>, config: super::DurabilityConfig) -> Self {
        Self {
            node: node.into(),
            default: config.default,
            candidates: config.candidates,
            wait: config.wait,
            source: config.source,
            board: CandidateBoard::default(),
        }
    }

    /// A gate that answers every write once committed and refuses `Candidates` writes (a
    /// node without durability settings).
    pub fn primary_only(node: impl Into<String>) -> Self {
        Self {
            node: node.into(),
            default: Durability::Primary,
            candidates: Candidates::AtLeast(0),
            wait: Duration::ZERO,
            source: None,
            board: CandidateBoard::default(),
        }
    }

    /// The durability a request gets here.
    pub fn resolve(&self, asked: Option<Durability>) -> Durability {
        asked.unwrap_or(self.default)
    }

    /// Refuses, before anything runs, a write asking for a durability this node cannot
    /// give (no position source).
    pub fn check(&self, asked: Option<Durability>) -> Result<(), RepoError> {
        match (self.resolve(asked), &self.source) {
            (Durability::Primary, _) | (Durability::Candidates, Some(_)) => Ok(()),
            (Durability::Candidates, None) => Err(RepoError::Rejected {
                reason: RejectReason::misconfigured(
                    "Durability::Candidates needs durability settings on the executing node \
                     (the primary): NodeConfig::durability(DurabilityConfig::new(\
                     Candidates::named([..]))), with a position source, which the backend \
                     gives (LiteFS: its <db>-pos, so NodeConfig::mount_dir; PostgreSQL: \
                     always; the emulator: DurabilityConfig::position_source)",
                ),
            }),
        }
    }

    /// After a commit of a write that began executing here at `began`: returns at once for
    /// [`Durability::Primary`]; for [`Durability::Candidates`] waits until every candidate
    /// reports holding it, bounded by the gate's wait and (with a margin for the answer)
    /// `deadline`.
    ///
    /// # Errors
    ///
    /// [`RepoError::NotReplicated`] (the write committed) when the bound passes first.
    pub async fn settle(
        &self,
        asked: Option<Durability>,
        deadline: Option<Instant>,
        began: Instant,
    ) -> Result<(), RepoError> {
        if self.resolve(asked) == Durability::Primary {
            return Ok(());
        }
        let started = Instant::now();
        let mut until = started + self.wait;
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(started);
            until = until.min(deadline - (left / 10).min(ANSWER_MARGIN));
        }
        let target = match &self.source {
            Some(source) => tokio::time::timeout_at(until, source.after_commit(began))
                .await
                .ok()
                .flatten(),
            None => None,
        };
        let outcome = match target {
            Some(target) => {
                self.board
                    .wait(&self.node, &self.candidates, target, until)
                    .await
            }
            None => Err(vec!["(this node's position is unknown)".to_owned()]),
        };
        let waited = started.elapsed();
        match outcome {
            Ok(()) => {
                tracing::debug!(node = %self.node, ?target, "durability: every candidate holds the write");
                metrics::histogram!("litefs_durability_wait_seconds").record(waited.as_secs_f64());
                Ok(())
            }
            Err(missing) => {
                metrics::counter!("litefs_durability_timeouts_total").increment(1);
                tracing::warn!(
                    node = %self.node,
                    ?waited,
                    missing = %missing.join(", "),
                    "a write committed on the primary but not every lease candidate holds it"
                );
                Err(RepoError::NotReplicated { waited, missing })
            }
        }
    }

    /// Records a replica's report, as the position source counts it (a report it cannot
    /// vouch for replaces the node's earlier one and counts for nothing); `target`
    /// positions are compared against these.
    pub(crate) async fn record(&self, node: &str, report: Position) {
        if node == self.node {
            return;
        }
        let counted = match &self.source {
            Some(source) => source.counted(report).await,
            None => Some(report),
        };
        if counted.is_none() {
            tracing::debug!(
                node,
                ?report,
                "position report not counted: not this primary's history"
            );
        }
        self.board.record(node, counted);
    }
}
