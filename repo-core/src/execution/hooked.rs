//! Executing requests together with work of the caller's in the same database transaction
//! (a ledger of request ids, say), one at a time or as a group commit.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::error::RepoError;
use crate::executor::{Executor, roll_back, run_operation};
use crate::joined::Joined;
use crate::request::Request;
use crate::response::Response;
use crate::statement_hook::StatementHook;
use crate::writer::Turn;

/// Work that runs in the same database transaction as a request.
pub trait TransactionHook: Send + Sync {
    /// Runs first. Answering `Some(response)` stops there: the request does not run and
    /// the transaction is rolled back (a recorded answer to a retried request, say).
    fn before<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        request: &'a Request,
    ) -> BoxFuture<'a, Result<Option<Response>, RepoError>>;

    /// Runs after the request succeeded, before the commit; an error rolls everything back.
    fn after<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        request: &'a Request,
        response: &'a Response,
    ) -> BoxFuture<'a, Result<(), RepoError>>;

    /// Runs once per group commit, after every request of the group ran, before the
    /// commit, with each request that ran and its response; an error rolls the whole group
    /// back (each request then runs again on its own, with [`after`](Self::after)). By
    /// default, [`after`](Self::after) for each; a hook can do its work for the whole group
    /// at once (one ledger insert for every row, say).
    fn after_group<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        ran: &'a [(&'a Request, Response)],
    ) -> BoxFuture<'a, Result<(), RepoError>> {
        Box::pin(async move {
            for (request, response) in ran {
                self.after(txn, request, response).await?;
            }
            Ok(())
        })
    }

    /// The hook as in-memory checks and statements, when it can be said so: the group
    /// commit then sends its statements with the commit, in one call to the database (see
    /// [`StatementHook`]). `None` by default: the hook runs with the transaction object.
    fn as_statements(&self) -> Option<&dyn StatementHook> {
        None
    }
}

/// A hook that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoHook;

impl TransactionHook for NoHook {
    fn before<'a>(
        &'a self,
        _: &'a DatabaseTransaction,
        _: &'a Request,
    ) -> BoxFuture<'a, Result<Option<Response>, RepoError>> {
        Box::pin(async { Ok(None) })
    }

    fn after<'a>(
        &'a self,
        _: &'a DatabaseTransaction,
        _: &'a Request,
        _: &'a Response,
    ) -> BoxFuture<'a, Result<(), RepoError>> {
        Box::pin(async { Ok(()) })
    }
}

impl Executor {
    /// Runs one hooked request while holding `turn`.
    pub(crate) async fn execute_in_turn(
        &self,
        turn: &mut Turn,
        request: &Request,
        hook: &dyn TransactionHook,
    ) -> Result<Response, RepoError> {
        match self
            .run_joined(turn, std::slice::from_ref(request), Some(hook))
            .await
        {
            Joined::Committed(mut results) => {
                let result = results.pop().unwrap_or_else(|| {
                    Err(RepoError::Internal {
                        message: "a joined write lost its response".into(),
                    })
                });
                return turn.classify(result);
            }
            Joined::RolledBack(e) => return turn.classify(Err(e)),
            Joined::Unsuitable => {}
        }
        request.check_deadline()?;
        turn.budget_for(request.deadline);
        let txn = self.writer().connection().begin().await?;
        if let Err(e) = turn.bound_call(&txn, request.deadline).await {
            roll_back(txn).await;
            return turn.classify(Err(e));
        }
        request.facts.mark_dispatched();
        let ran = turn
            .within(async {
                let hooked = self.run_hooked(&txn, request, hook).await?;
                if let Hooked::Ran(response) = &hooked {
                    hook.after(&txn, request, response).await?;
                }
                Ok(hooked)
            })
            .await;
        let result = match ran {
            Ok(Hooked::Answered(response)) => {
                roll_back(txn).await;
                Ok(response)
            }
            Ok(Hooked::Ran(response)) => {
                // The commit gets a fresh budget: the work fitted in the request's.
                turn.budget_for(None);
                txn.commit().await.map(|()| response).map_err(Into::into)
            }
            Err(e) => {
                turn.roll_back(txn).await;
                Err(e)
            }
        };
        turn.classify(result)
    }

    /// Runs requests together in one database transaction, each with `hook`: a group
    /// commit. Holding one connection and committing once (one set of fsyncs) costs a
    /// fraction of running each request on its own (see docs/BENCHMARKS.md). A named
    /// transaction or a batch runs in a savepoint of the group's transaction, as it does in
    /// a transaction of its own.
    ///
    /// Each request gets the result it would have got alone: if any part fails, or the
    /// commit does, the whole group is rolled back and every request runs again on its own.
    /// A panic while running the group is caught the same way, and then fails only the
    /// request that panics again on its own ([`RepoError::Internal`]).
    pub async fn execute_group_with(
        &self,
        requests: Vec<Request>,
        hook: &dyn TransactionHook,
    ) -> Vec<Result<Response, RepoError>> {
        self.group(requests, Some(hook)).await
    }

    /// [`Executor::execute_group_with`] without a hook.
    pub async fn execute_group(&self, requests: Vec<Request>) -> Vec<Result<Response, RepoError>> {
        self.group(requests, None).await
    }

    /// The group commit, with or without a hook.
    pub(crate) async fn group(
        &self,
        requests: Vec<Request>,
        hook: Option<&dyn TransactionHook>,
    ) -> Vec<Result<Response, RepoError>> {
        if requests.len() > 1 {
            let grouped = AssertUnwindSafe(self.try_group(&requests, hook))
                .catch_unwind()
                .await;
            match grouped {
                Ok(Some(results)) => return results,
                Ok(None) => {}
                Err(_) => {
                    metrics::counter!("repo_group_commit_panics_total").increment(1);
                    tracing::error!(
                        size = requests.len(),
                        "a group commit panicked; its writes rolled back and run one by one"
                    );
                }
            }
        }
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            // `run_alone` contains a panic to its request.
            results.push(self.run_alone(request, hook).await);
        }
        results
    }

    /// One transaction for the whole group; `None` when anything failed (rolled back).
    async fn try_group(
        &self,
        requests: &[Request],
        hook: Option<&dyn TransactionHook>,
    ) -> Option<Vec<Result<Response, RepoError>>> {
        let deadline = requests.iter().filter_map(|r| r.deadline).min();
        let mut turn = self.writer().turn(deadline).await.ok()?;
        let results = self.group_in_turn(&mut turn, requests, hook).await;
        turn.finish();
        results
    }

    /// [`Executor::try_group`] while holding `turn`.
    async fn group_in_turn(
        &self,
        turn: &mut Turn,
        requests: &[Request],
        hook: Option<&dyn TransactionHook>,
    ) -> Option<Vec<Result<Response, RepoError>>> {
        match self.run_joined(turn, requests, hook).await {
            Joined::Committed(results) => return Some(results),
            Joined::RolledBack(_) => return None,
            Joined::Unsuitable => {}
        }
        let hook = hook.unwrap_or(&NoHook);
        let txn = self.writer().connection().begin().await.ok()?;
        // `None`: ran, answered from `ran` after the commit.
        let mut results: Vec<Option<Result<Response, RepoError>>> =
            Vec::with_capacity(requests.len());
        let mut ran = Vec::with_capacity(requests.len());
        for request in requests {
            if let Err(expired) = request.check_deadline() {
                results.push(Some(Err(expired)));
                continue;
            }
            turn.budget_for(request.deadline);
            if turn.bound_call(&txn, request.deadline).await.is_err() {
                roll_back(txn).await;
                return None;
            }
            request.facts.mark_dispatched();
            match turn.within(self.run_hooked(&txn, request, hook)).await {
                Ok(Hooked::Answered(response)) => results.push(Some(Ok(response))),
                Ok(Hooked::Ran(response)) => {
                    ran.push((request, response));
                    results.push(None);
                }
                Err(_) => {
                    turn.roll_back(txn).await;
                    return None;
                }
            }
        }
        if hook.after_group(&txn, &ran).await.is_err() {
            roll_back(txn).await;
            return None;
        }
        turn.budget_for(None);
        txn.commit().await.ok()?;
        let mut responses = ran.into_iter().map(|(_, response)| response);
        Some(
            results
                .into_iter()
                .map(|slot| {
                    // One response per `None`, by construction.
                    slot.unwrap_or_else(|| {
                        responses.next().ok_or_else(|| RepoError::Internal {
                            message: "a group commit lost a response".into(),
                        })
                    })
                })
                .collect(),
        )
    }

    /// The hook's `before`, then the request: `after` is the caller's (one request, or
    /// the whole group).
    async fn run_hooked(
        &self,
        txn: &DatabaseTransaction,
        request: &Request,
        hook: &dyn TransactionHook,
    ) -> Result<Hooked, RepoError> {
        if let Some(answer) = hook.before(txn, request).await? {
            return Ok(Hooked::Answered(answer));
        }
        let outcome = run_operation(txn, self.registry(), request.operation.clone()).await?;
        Ok(Hooked::Ran(Response::new(outcome)))
    }
}

/// How a hooked request ended.
enum Hooked {
    /// The hook answered; nothing ran (roll back).
    Answered(Response),
    /// The request ran (commit).
    Ran(Response),
}
