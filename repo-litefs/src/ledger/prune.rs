//! Pruning the ledger by age and by count, on a schedule.

use std::time::Duration;

use repo_core::RepoError;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{TABLE, now_ms};
use crate::tracker::PrimaryTracker;

/// How much of the ledger to keep. Defaults: 24 h, 1,000,000 rows, pruned every minute.
/// A retry older than `max_age` would run again, so keep it well above any client's
/// retry window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneConfig {
    max_age: Duration,
    max_rows: u64,
    every: Duration,
}

impl Default for PruneConfig {
    fn default() -> Self {
        Self {
            max_age: Duration::from_secs(24 * 3600),
            max_rows: 1_000_000,
            every: Duration::from_secs(60),
        }
    }
}

impl PruneConfig {
    /// Rows older than this are deleted (default 24 h).
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// How long a row is kept at most: the ledger's retention.
    pub fn retention(&self) -> Duration {
        self.max_age
    }

    /// At most this many rows are kept, the newest (default 1,000,000).
    pub fn max_rows(mut self, rows: u64) -> Self {
        self.max_rows = rows;
        self
    }

    /// How often to prune (default every minute; at least every second).
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every.max(Duration::from_secs(1));
        self
    }
}

/// Deletes old ledger rows, on the primary only.
#[derive(Debug, Clone)]
pub struct Pruner {
    db: DatabaseConnection,
    config: PruneConfig,
}

impl Pruner {
    /// A pruner of the ledger in `db`.
    pub fn new(db: DatabaseConnection, config: PruneConfig) -> Self {
        Self { db, config }
    }

    /// Prunes once; returns the number of rows deleted.
    pub async fn prune(&self) -> Result<u64, RepoError> {
        let cutoff = now_ms()
            .saturating_sub(i64::try_from(self.config.max_age.as_millis()).unwrap_or(i64::MAX));
        let backend = self.db.get_database_backend();
        let by_age = super::dialect::statement(
            backend,
            &format!("DELETE FROM {TABLE} WHERE created_at < ?"),
            [cutoff.into()],
        );
        let by_count = super::dialect::statement(
            backend,
            &format!(
                "DELETE FROM {TABLE} WHERE request_id NOT IN \
                 (SELECT request_id FROM {TABLE} ORDER BY created_at DESC LIMIT ?)"
            ),
            [i64::try_from(self.config.max_rows)
                .unwrap_or(i64::MAX)
                .into()],
        );
        let deleted = self.db.execute_raw(by_age).await?.rows_affected()
            + self.db.execute_raw(by_count).await?.rows_affected();
        metrics::counter!("litefs_ledger_pruned_total").increment(deleted);
        Ok(deleted)
    }

    /// Prunes every `every` (the first time one period after the start) while this node is
    /// the primary, until the returned task is aborted or dropped with the runtime.
    ///
    /// A panic while pruning restarts the loop (see `litefs_task_panics_total`).
    pub fn spawn(self, tracker: PrimaryTracker) -> tokio::task::JoinHandle<()> {
        crate::supervise::supervised("pruner", move || {
            let (pruner, tracker) = (self.clone(), tracker.clone());
            async move {
                // The first pass comes one period after the start, not at once: a node that
                // just started has nothing urgent to prune.
                let every = pruner.config.every;
                let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
                loop {
                    tick.tick().await;
                    if !tracker.is_primary() {
                        continue;
                    }
                    if let Err(e) = pruner.prune().await {
                        tracing::warn!(error = %e, "pruning the ledger failed");
                    }
                }
            }
        })
    }
}
