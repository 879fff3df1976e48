//! Joined execution: a group of single-statement writes (and the hook's rows) in two calls
//! to SQLite's worker thread, `BEGIN` + the writes, then the hook's statements + `COMMIT`.
//!
//! The statement-by-statement path ([`Executor::group`]) makes one call per statement plus
//! `BEGIN` and `COMMIT`, each a round trip to sqlx's worker thread: a forwarded write alone
//! cost four (`BEGIN`, the write, the ledger row, `COMMIT`), a group of 64 sixty-seven.
//! Joined, a write alone or a group costs two: the hook's rows depend on the writes'
//! answers (the ledger records each write's outcome), so they cannot go in the first call.
//!
//! It applies when every write of the group is one statement that [`RoundTrip`] can join,
//! the writer has a dedicated SQLite connection, and the hook (if any) can be said as
//! statements ([`StatementHook`]); otherwise nothing runs here and the caller takes the
//! statement-by-statement path. Outcomes are those of that path: the same statements run on
//! the same connection in the same transaction, and each write's summary and rows are
//! reported by the driver statement by statement; a failure anywhere rolls everything back.

use sea_orm::sqlx::Executor as _;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{self, Sqlite};
use std::sync::Arc;

use sea_orm::{DbBackend, DbErr, ExecResult, QueryResult, RuntimeErr};

use crate::error::RepoError;
use crate::executor::{Executor, summary};
use crate::hooked::TransactionHook;
use crate::request::{Fetch, Operation, Request};
use crate::response::{Outcome, Response};
use crate::round_trip::{Part, RoundTrip, Stopped};
use crate::row::Row;
use crate::statement_hook::StatementHook;
use crate::writer::Turn;

/// How a joined attempt ended.
#[derive(Debug)]
pub(crate) enum Joined {
    /// The group cannot be joined; nothing ran.
    Unsuitable,
    /// Committed: one result per request, in order (an expired request's is its error).
    Committed(Vec<Result<Response, RepoError>>),
    /// Something failed and everything rolled back: the first failure.
    RolledBack(RepoError),
}

impl Executor {
    /// Runs `requests` as one transaction in two round trips, under `turn` (see the module
    /// docs). `Unsuitable` when it does not apply.
    pub(crate) async fn run_joined(
        &self,
        turn: &mut Turn,
        requests: &[Request],
        hook: Option<&dyn TransactionHook>,
    ) -> Joined {
        let Some(pool) = self.writer().pool() else {
            return Joined::Unsuitable;
        };
        let statements = match hook.map(|h| h.as_statements()) {
            None => None,
            Some(Some(statements)) => Some(statements),
            Some(None) => return Joined::Unsuitable,
        };
        let mut writes = RoundTrip::new();
        writes.push_sql("BEGIN");
        // `None`: in the round trip, answered from its part.
        let mut results: Vec<Option<Result<Response, RepoError>>> =
            Vec::with_capacity(requests.len());
        let mut members = Vec::with_capacity(requests.len());
        for request in requests {
            if let Err(expired) = request.check_deadline() {
                results.push(Some(Err(expired)));
                continue;
            }
            let statement = match &request.operation {
                Operation::Execute(statement) | Operation::Query { statement, .. } => statement,
                Operation::Transaction { .. } | Operation::Batch(_) => return Joined::Unsuitable,
            };
            if !writes.push(statement) {
                return Joined::Unsuitable;
            }
            results.push(None);
            members.push(request);
        }
        if members.is_empty() {
            return Joined::Committed(results.into_iter().flatten().collect());
        }
        if let Some(hook) = statements
            && let Some(refused) = members.iter().find_map(|r| hook.check(r).err())
        {
            return Joined::RolledBack(refused);
        }
        let mut conn = match pool.acquire().await {
            Ok(conn) => conn,
            Err(e) => return Joined::RolledBack(sqlx_error_to_query_err(e).into()),
        };
        match self
            .commit_joined(turn, &mut conn, writes, &members, statements)
            .await
        {
            Ok(Some(responses)) => {
                let mut responses = responses.into_iter();
                Joined::Committed(
                    results
                        .into_iter()
                        .map(|slot| {
                            slot.unwrap_or_else(|| {
                                responses.next().ok_or_else(|| RepoError::Internal {
                                    message: "a joined group commit lost a response".into(),
                                })
                            })
                        })
                        .collect(),
                )
            }
            Ok(None) => {
                roll_back(&mut conn).await;
                Joined::Unsuitable
            }
            Err(e) => {
                roll_back(&mut conn).await;
                Joined::RolledBack(e)
            }
        }
    }

    /// The two round trips: the writes' responses once committed; `None` when the hook's
    /// statements cannot be joined (the caller rolls back); an error when anything failed
    /// (the caller rolls back).
    async fn commit_joined(
        &self,
        turn: &mut Turn,
        conn: &mut PoolConnection<Sqlite>,
        writes: RoundTrip,
        members: &[&Request],
        hook: Option<&dyn StatementHook>,
    ) -> Result<Option<Vec<Response>>, RepoError> {
        turn.budget_for(members.iter().filter_map(|r| r.deadline).min());
        for request in members {
            request.facts.mark_dispatched();
        }
        let parts = writes.run(conn).await.map_err(|stopped| {
            // Part 0 is `BEGIN`, part k the k-th member.
            let failed = stopped.part.checked_sub(1).and_then(|k| members.get(k));
            write_error(stopped, failed.copied())
        })?;
        let mut ran = Vec::with_capacity(members.len());
        for (request, part) in members.iter().zip(parts.into_iter().skip(1)) {
            ran.push((*request, response_of(request, part)?));
        }
        let mut finish = RoundTrip::new();
        if let Some(hook) = hook {
            for statement in hook.statements(&ran)? {
                if !finish.push(&statement) {
                    return Ok(None);
                }
            }
        }
        let rows = finish.len();
        finish.push_sql("COMMIT");
        // The commit gets a fresh budget: the work fitted in the requests'.
        turn.budget_for(None);
        finish.run(conn).await.map_err(|stopped| {
            if stopped.part < rows {
                RepoError::from(sqlx_error_to_exec_err(stopped.error))
            } else {
                RepoError::from(sqlx_error_to_query_err(stopped.error))
            }
        })?;
        Ok(Some(
            ran.into_iter().map(|(_, response)| response).collect(),
        ))
    }
}

/// The error of a failed first round trip, as the statement-by-statement path reports it:
/// an execute error for a statement, a query error for one that returns rows or for `BEGIN`.
fn write_error(stopped: Stopped, failed: Option<&Request>) -> RepoError {
    match failed.map(|r| &r.operation) {
        Some(Operation::Execute(_)) => sqlx_error_to_exec_err(stopped.error).into(),
        _ => sqlx_error_to_query_err(stopped.error).into(),
    }
}

/// The response of `request` from what its statement reported.
fn response_of(request: &Request, part: Part) -> Result<Response, RepoError> {
    let outcome = match &request.operation {
        Operation::Query { shape, fetch, .. } => {
            let take = match fetch {
                Fetch::One => 1,
                Fetch::All => part.rows.len(),
            };
            let rows = part
                .rows
                .into_iter()
                .take(take)
                .map(|row| Row::read(&QueryResult::from(row), shape.as_deref()))
                .collect::<Result<Vec<_>, _>>()?;
            Outcome::Rows(rows)
        }
        Operation::Execute(_) | Operation::Transaction { .. } | Operation::Batch(_) => {
            Outcome::Executed(summary(DbBackend::Sqlite, &ExecResult::from(part.done)))
        }
    };
    Ok(Response::new(outcome))
}

/// A failed statement, as sea-orm reports one it executed.
fn sqlx_error_to_exec_err(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

/// A failed query, `BEGIN` or `COMMIT`, as sea-orm reports it.
fn sqlx_error_to_query_err(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

/// Rolls back whatever transaction is open on `conn`. "No transaction is active" (a failed
/// `COMMIT` that SQLite already rolled back, or a `BEGIN` that never ran) is expected.
async fn roll_back(conn: &mut PoolConnection<Sqlite>) {
    if let Err(e) = conn.execute(sqlx::AssertSqlSafe("ROLLBACK")).await {
        tracing::debug!(error = %e, "rollback after a joined group commit did not run");
    }
}

#[cfg(test)]
#[path = "joined_tests.rs"]
mod tests;
