//! `Turn`: the right to write on the writer connection, with the budget of the work
//! running under it (SQLite's progress handler, or PostgreSQL's statement timeout).

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseTransaction;
use sea_orm::sqlx::sqlite::SqlitePool;
use tokio::sync::OwnedMutexGuard;
use tokio::time::Instant;

use super::budget::Budget;
use super::commit_guard::Refusals;
use super::statement_timeout::{ServerLimit, StatementTimeout, answer_by};
use crate::error::{CommitState, RepoError};

/// Which bound a turn's budget came from.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// The request's own deadline (on PostgreSQL, an interactive transaction's end).
    Deadline,
    /// The writer's maximum statement time.
    StatementTime(Duration),
    /// On PostgreSQL, a call's deadline less the margin for its answer: the time its write
    /// was given.
    AnswerBy(Duration),
}

/// The right to write, with the budget of the work running under it.
///
/// A turn dropped before [`Turn::finish`] (its caller went away, or a panic unwound through
/// it) may leave a statement running on the writer connection: the turn then stays taken,
/// and the budget stays set, until that statement has ended (or been interrupted), so
/// that the next write neither extends the abandoned statement's budget nor waits on it
/// with its own.
#[derive(Debug)]
pub(crate) struct Turn {
    /// Held for the turn's life: the next write waits for it.
    guard: Option<OwnedMutexGuard<()>>,
    /// The writer connection's budget (none on a shared connection).
    budget: Option<Arc<Budget>>,
    /// The server's statement timeout (PostgreSQL only).
    server: Option<Arc<StatementTimeout>>,
    /// The bound the last [`Turn::bound_call`] or [`Turn::bound_session`] set (on the
    /// server when it is below the connection's own `statement_timeout`), and the error its
    /// passing turns into; `None` without a deadline.
    server_limit: Option<(ServerLimit, Bound)>,
    /// Whether this turn's transaction runs with a statement timeout below the
    /// connection's own (to be set back for a request that has no nearer deadline).
    lowered: bool,
    /// The writer connection's pool, acquired to see that an abandoned turn's work ended.
    pool: Option<SqlitePool>,
    /// Whether the work under this turn ran to its end.
    finished: bool,
    /// The writer's maximum statement time.
    max_statement_time: Duration,
    /// The bound set by the last [`Turn::budget_for`], for the error it turns into.
    limit: Option<Bound>,
    /// Whether the commit guard refused a commit under this turn.
    refusals: Arc<Refusals>,
}

impl Turn {
    /// A turn holding `guard`, its work bounded by `budget` (SQLite) or `server`
    /// (PostgreSQL) as [`Turn::budget_for`] and [`Turn::bound_call`] say.
    pub(super) fn new(
        guard: OwnedMutexGuard<()>,
        budget: Option<Arc<Budget>>,
        server: Option<Arc<StatementTimeout>>,
        pool: Option<SqlitePool>,
        max_statement_time: Duration,
        refusals: Arc<Refusals>,
    ) -> Self {
        Self {
            guard: Some(guard),
            budget,
            server,
            server_limit: None,
            lowered: false,
            pool,
            finished: false,
            max_statement_time,
            limit: None,
            refusals,
        }
    }

    /// Starts the budget of one request: interrupted at `deadline` or after the maximum
    /// statement time, whichever comes first.
    pub(crate) fn budget_for(&mut self, deadline: Option<Instant>) {
        let cap = Instant::now() + self.max_statement_time;
        let (until, bound) = match deadline {
            Some(d) if d <= cap => (d, Bound::Deadline),
            _ => (cap, Bound::StatementTime(self.max_statement_time)),
        };
        self.limit = Some(bound);
        if let Some(budget) = &self.budget {
            budget.set(until.into_std());
        }
    }

    /// On PostgreSQL, bounds the statements `txn` runs from now on so that a call's write
    /// is over slightly before its `deadline` ([`answer_by`]): the server cancels a
    /// statement still running then, [`Turn::within`] stops waiting for the write, and the
    /// failure is [`RepoError::Interrupted`]. The connection's own `statement_timeout` stays
    /// the upper bound of each statement. Does nothing on SQLite, whose budget is
    /// [`Turn::budget_for`]'s.
    pub(crate) async fn bound_call(
        &mut self,
        txn: &DatabaseTransaction,
        deadline: Option<Instant>,
    ) -> Result<(), RepoError> {
        self.bound(txn, deadline.map(answer_by), Bound::AnswerBy)
            .await
    }

    /// [`Turn::bound_call`] for an interactive transaction: its statements are cancelled at
    /// `deadline` itself, and the failure is the one SQLite's budget gives at a deadline.
    pub(crate) async fn bound_session(
        &mut self,
        txn: &DatabaseTransaction,
        deadline: Instant,
    ) -> Result<(), RepoError> {
        self.bound(txn, Some(deadline), |_| Bound::Deadline).await
    }

    async fn bound(
        &mut self,
        txn: &DatabaseTransaction,
        until: Option<Instant>,
        bound: fn(Duration) -> Bound,
    ) -> Result<(), RepoError> {
        let Some(server) = &self.server else {
            return Ok(());
        };
        self.server_limit = None;
        let set = server.set(txn, until, self.lowered).await?;
        self.lowered = set.is_some_and(|limit| limit.lowered);
        self.server_limit = set.map(|limit| (limit, bound(limit.limit)));
        Ok(())
    }

    /// Runs `work` (a write's part before its commit) within the bound set on the server:
    /// once it passes, the work is dropped and fails as interrupted; the statement it
    /// left running is cancelled by the server. Without such a bound, runs `work` as it is.
    pub(crate) async fn within<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, RepoError>>,
    ) -> Result<T, RepoError> {
        match self.server_limit {
            Some((limit, _)) => tokio::time::timeout_at(limit.expires, work)
                .await
                .unwrap_or_else(|_| Err(self.interruption())),
            None => work.await,
        }
    }

    /// Rolls `txn` back. Past the bound of a PostgreSQL write, without waiting: the
    /// statement [`Turn::within`] may have left running is cancelled by the server, and the
    /// rollback is sent when the connection goes back to its pool (which waits for both).
    pub(crate) async fn roll_back(&self, txn: DatabaseTransaction) {
        if self.server_limit.is_some() && self.expired() {
            drop(txn);
        } else {
            crate::executor::roll_back(txn).await;
        }
    }

    /// Whether the current budget has run out (so a failure now is an interruption).
    pub(crate) fn expired(&self) -> bool {
        self.budget.as_ref().is_some_and(|b| b.expired())
            || self
                .server_limit
                .is_some_and(|(limit, _)| Instant::now() >= limit.expires)
    }

    /// The error of a request whose budget ran out, replacing what the database said
    /// (`interrupted` or `query_canceled`, or the failed rollback after it).
    pub(crate) fn interruption(&self) -> RepoError {
        match self.server_limit.map(|(_, bound)| bound).or(self.limit) {
            Some(Bound::StatementTime(limit) | Bound::AnswerBy(limit)) => {
                RepoError::Interrupted { limit }
            }
            Some(Bound::Deadline) | None => RepoError::Timeout {
                commit: CommitState::NotCommitted,
            },
        }
    }

    /// Whether this turn's writes are bounded by the server rather than by the writer's
    /// own budget: on PostgreSQL, for a request with a `deadline`.
    pub(crate) fn bounds_on_server(&self, deadline: Option<Instant>) -> bool {
        self.server.is_some() && deadline.is_some()
    }

    /// The work under this turn has ended: nothing runs on the writer connection any more.
    pub(crate) fn finish(&mut self) {
        self.finished = true;
    }

    /// `result`, with a failure caused by the budget running out reported as such, and one
    /// caused by the commit guard's refusal as [`RepoError::NotPrimary`]; the work has ended
    /// ([`Turn::finish`]).
    pub(crate) fn classify<T>(&mut self, result: Result<T, RepoError>) -> Result<T, RepoError> {
        self.finish();
        if self.refusals.any() {
            // The refused commit rolled back, whatever the statement reported (a statement
            // with RETURNING can hand its rows over before its commit is refused).
            metrics::counter!("repo_commits_refused_total").increment(1);
            return Err(RepoError::NotPrimary { primary: None });
        }
        match result {
            Err(_) if self.expired() => {
                metrics::counter!("repo_statements_interrupted_total").increment(1);
                Err(self.interruption())
            }
            other => other,
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (guard, budget, pool) = (self.guard.take(), self.budget.take(), self.pool.take());
        if !self.finished
            && let (Some(pool), Ok(runtime)) = (pool, tokio::runtime::Handle::try_current())
        {
            // Abandoned mid-write: keep the turn, and the budget, until the writer connection
            // is idle again (acquiring it waits for the abandoned statement and its rollback).
            runtime.spawn(async move {
                if let Ok(mut conn) = pool.acquire().await {
                    // A joined group commit sends `BEGIN` as text, which sqlx does not
                    // track: roll back what it may have left open ("no transaction is
                    // active" otherwise, ignored).
                    let _ = sea_orm::sqlx::Executor::execute(
                        &mut *conn,
                        sea_orm::sqlx::AssertSqlSafe("ROLLBACK"),
                    )
                    .await;
                }
                if let Some(budget) = budget {
                    budget.clear();
                }
                drop(guard);
            });
            return;
        }
        if let Some(budget) = budget {
            budget.clear();
        }
        drop(guard);
    }
}
