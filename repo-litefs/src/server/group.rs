//! `GroupCommit`: gathers the writes that arrive together (statements, named transactions,
//! batches) and runs them in one database transaction (see `Executor::execute_group`).
//!
//! One task owns the queue. It waits for a write, then takes every write already queued (up
//! to `max_group`), without waiting for more: an idle primary runs each write on its own at
//! once, a busy one commits many writes together. SQLite runs one write transaction at a
//! time anyway, so a single task loses no parallelism.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use repo_core::{Executor, RejectReason, RepoError, Request, Response};
use tokio::sync::{mpsc, oneshot};

use crate::ledger::LedgerHook;
use repo_core::spi::Ledger;

type Job = (Request, oneshot::Sender<Result<Response, RepoError>>);

/// The queue of the group-commit task.
#[derive(Debug, Clone)]
pub(crate) struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the task on the current runtime; it ends when every `GroupCommit` is dropped.
    pub(crate) fn start(executor: Executor, hook: Arc<LedgerHook>, max_group: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>(max_group * 4);
        tokio::spawn(run(executor, hook, queue, max_group.max(1)));
        Self { jobs }
    }

    /// Runs `request` in the next group and returns its result.
    pub(crate) async fn execute(&self, request: Request) -> Result<Response, RepoError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send((request, reply))
            .await
            .map_err(|_| shutting_down())?;
        // The task answers every job it takes, panics included: without an answer it was
        // stopped with the runtime, before the write (a closed queue) or in it.
        answer.await.map_err(|_| shutting_down())?
    }
}

async fn run(
    executor: Executor,
    hook: Arc<LedgerHook>,
    mut queue: mpsc::Receiver<Job>,
    max_group: usize,
) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < max_group {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (requests, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        metrics::histogram!("litefs_forward_group_size").record(requests.len() as f64);
        let size = requests.len();
        // The executor isolates a panic to the request that caused it; this catches the
        // rest (answering from the ledger), so the committer never dies with a panic.
        let results = AssertUnwindSafe(commit_group(&executor, &hook, requests))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                metrics::counter!("litefs_forward_panics_total").increment(1);
                tracing::error!(
                    size,
                    "a group commit panicked after running; answered INTERNAL"
                );
                (0..size).map(|_| Err(internal())).collect()
            });
        for (reply, result) in replies.into_iter().zip(results) {
            // The caller may have gone away; the write ran all the same.
            let _ = reply.send(result);
        }
    }
}

/// Runs one group and settles each answer against the ledger.
async fn commit_group(
    executor: &Executor,
    hook: &LedgerHook,
    requests: Vec<Request>,
) -> Vec<Result<Response, RepoError>> {
    let tickets: Vec<_> = requests.iter().map(|r| hook.ticket(r)).collect();
    let results = executor.execute_group_with(requests, hook).await;
    let mut answered = Vec::with_capacity(results.len());
    for (ticket, result) in tickets.into_iter().zip(results) {
        answered.push(hook.settle(ticket, result).await);
    }
    answered
}

fn shutting_down() -> RepoError {
    RepoError::Rejected {
        reason: RejectReason::ShuttingDown,
    }
}

fn internal() -> RepoError {
    RepoError::Internal {
        message: "the primary failed while committing the write's group".into(),
    }
}
