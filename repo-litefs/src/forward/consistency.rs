//! Read your writes: after a forwarded write returns, wait (bounded) until this node's own
//! database has it.
//!
//! The primary records each forwarded request id in the ledger in the write's transaction,
//! and LiteFS replicates that row with the data, atomically. So once the row is visible
//! locally, so is the write (PostgreSQL's streaming replication replays the row with the
//! data too). With a [`ReplicationPosition`] on both sides (LiteFS's TXID, PostgreSQL's
//! LSN), the wait also ends as soon as this node's position reaches the primary's after the
//! commit. The wait polls the local database every millisecond (an indexed
//! primary-key lookup; never a busy spin) until the row appears or the wait ends, which it
//! always does: a LiteFS TXID can go backwards after a failover, a row cannot appear early.

use std::time::Duration;

use repo_core::RepoError;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::time::Instant;

use crate::backend::{LiteFsTxid, ReplicationPosition};
use crate::ledger::{TABLE, ledger_statement};

/// What a call does when its write has not reached this node within the wait.
///
/// The default is [`OnLag::Fail`]: a wait that runs out most often means this node is cut
/// off from the primary, or the primary has just lost its lease, which is when a write the
/// primary committed can still be lost in a failover (replication is asynchronous). An
/// error that says "committed" lets the caller know the write is unconfirmed; a success
/// would hide it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnLag {
    /// Return the committed result anyway, as if confirmed. Never silently: each such
    /// write is counted in `litefs_consistency_timeouts_total` and logged at WARN with its
    /// request id. The risk: a read here right after may not see the write, and if the
    /// wait ran out because a failover is under way, the write may be lost although the
    /// call succeeded (ask for `Durability::Candidates` to rule that out).
    ReturnCommitted,
    /// Fail with [`RepoError::ReplicationLag`], which says the write **did** commit (the
    /// default).
    #[default]
    Fail,
}

/// How a replica waits for its own writes.
#[derive(Debug, Clone)]
pub struct ReadYourWrites {
    /// This node's database, read to see whether the write has arrived.
    pub(crate) local: DatabaseConnection,
    /// The longest wait (default 5 s), also bounded by the call's deadline.
    pub(crate) wait: Duration,
    /// What to do when the wait ends first.
    pub(crate) on_lag: OnLag,
    /// This node's replication position, to compare with the primary's.
    pub(crate) position: Option<std::sync::Arc<dyn ReplicationPosition>>,
}

impl ReadYourWrites {
    /// Waits on `local` (this node's database) for up to 5 s, then fails with
    /// [`RepoError::ReplicationLag`] ([`OnLag::Fail`], the default).
    pub fn new(local: DatabaseConnection) -> Self {
        Self {
            local,
            wait: Duration::from_secs(5),
            on_lag: OnLag::default(),
            position: None,
        }
    }

    /// The longest wait.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Also stops waiting once this node's TXID, read from LiteFS's `<db>-pos` at
    /// `pos_file`, reaches the one the primary reported after the commit (needs
    /// `ServerConfig::litefs_position` on the primary). Only real LiteFS updates the file
    /// at commit; the ledger row remains the check when either side has no TXID.
    pub fn litefs_position(self, pos_file: impl Into<std::path::PathBuf>) -> Self {
        self.position(std::sync::Arc::new(LiteFsTxid::new(pos_file)))
    }

    /// Also stops waiting once this node's `position` reaches the one the primary reported
    /// after the commit (LiteFS's TXID, PostgreSQL's LSN: see
    /// [`Backend::position`](crate::backend::Backend::position)).
    pub fn position(mut self, position: std::sync::Arc<dyn ReplicationPosition>) -> Self {
        self.position = Some(position);
        self
    }

    /// What to do when the wait ends before the write arrived.
    pub fn on_lag(mut self, on_lag: OnLag) -> Self {
        self.on_lag = on_lag;
        self
    }

    /// Waits until the ledger row of `request_id` is visible locally.
    pub(crate) async fn wait_for(
        &self,
        request_id: uuid::Uuid,
        txid: Option<u64>,
        deadline: Option<Instant>,
    ) -> Result<(), RepoError> {
        let started = Instant::now();
        let mut until = started + self.wait;
        if let Some(deadline) = deadline {
            until = until.min(deadline);
        }
        let probe = ledger_statement(
            self.local.get_database_backend(),
            &format!("SELECT 1 FROM {TABLE} WHERE request_id = ?"),
            [request_id.as_bytes().to_vec().into()],
        );
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let caught_up = match (&self.position, txid) {
                (Some(position), Some(target)) => position.reached(target).await,
                _ => false,
            };
            // A read error (the file being replaced, say) counts as "not yet".
            let lookup = self.local.query_one_raw(probe.clone());
            let visible = matches!(
                tokio::time::timeout_at(
                    until.max(Instant::now() + Duration::from_millis(1)),
                    lookup
                )
                .await,
                Ok(Ok(Some(_)))
            );
            if caught_up || visible {
                metrics::histogram!("litefs_consistency_wait_seconds")
                    .record(started.elapsed().as_secs_f64());
                return Ok(());
            }
            if Instant::now() >= until {
                break;
            }
            tick.tick().await;
        }
        let waited = started.elapsed();
        metrics::counter!("litefs_consistency_timeouts_total").increment(1);
        tracing::warn!(
            request_id = %request_id,
            ?waited,
            on_lag = ?self.on_lag,
            "this node had not caught up with a forwarded write: it committed on the primary, \
             unconfirmed here"
        );
        match self.on_lag {
            OnLag::ReturnCommitted => Ok(()),
            OnLag::Fail => Err(RepoError::ReplicationLag { waited }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OnLag;

    #[test]
    fn an_unconfirmed_write_is_an_error_by_default() {
        assert_eq!(OnLag::default(), OnLag::Fail);
    }
}
