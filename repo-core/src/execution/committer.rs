//! `Committer`: the group commit of a node's writes, local and forwarded.
//!
//! Every write (a statement, a named transaction, a batch) that reaches the [`Executor`]
//! while another write is in flight joins one queue; a write that finds the node idle runs at once, in
//! its caller's task, with no hop. One task owns the queue. It waits for a write, then
//! takes every write already queued (up to `max_group`), without waiting for more, and runs
//! them in one database transaction per hook ([`Executor::execute_group_with`]): a busy node
//! commits many writes at once, an idle one never waits. SQLite runs one write transaction
//! at a time anyway, so a single task loses no parallelism; on LiteFS, where each commit
//! writes and syncs a transaction file, sharing a commit is most of the gain.
//!
//! Each write keeps its own result: a group in which anything fails is rolled back and run
//! again one write at a time, so a failing statement never changes another's outcome.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};

use crate::error::{RejectReason, RepoError};
use crate::executor::Executor;
use crate::hooked::TransactionHook;
use crate::request::Request;
use crate::response::Response;

/// A write waiting for its group, the hook to run with it, and where to answer.
struct Job {
    request: Request,
    hook: Option<Arc<dyn TransactionHook>>,
    reply: oneshot::Sender<Result<Response, RepoError>>,
}

/// The queue of writes of one executor (shared by its clones).
pub(crate) struct Committer {
    /// The executor the task runs groups on: the same writer, without a committer of its
    /// own (so the task does not keep itself alive).
    executor: Executor,
    /// How many writes one group may hold.
    max_group: usize,
    /// Writes between entering [`Committer::run`] and their answer.
    in_flight: AtomicUsize,
    /// The task's queue; started on first use, restarted if its runtime went away.
    jobs: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for Committer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committer")
            .field("max_group", &self.max_group)
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Committer {
    /// A committer running groups of at most `max_group` writes on `executor`, which must
    /// have no committer of its own.
    pub(crate) fn new(executor: Executor, max_group: usize) -> Self {
        Self {
            executor,
            max_group: max_group.max(1),
            in_flight: AtomicUsize::new(0),
            jobs: std::sync::Mutex::new(None),
        }
    }

    /// Runs `request` (with `hook` in its transaction), alone and at once when no other write is in flight, in the next group otherwise.
    pub(crate) async fn run(
        &self,
        request: Request,
        hook: Option<Arc<dyn TransactionHook>>,
    ) -> Result<Response, RepoError> {
        let in_flight = InFlight::enter(&self.in_flight);
        if in_flight.alone {
            return self.executor.run_alone(request, hook.as_deref()).await;
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request,
            hook,
            reply,
        };
        let queue = self.queue();
        let job = match queue.send(job).await {
            Ok(()) => return answer.await.map_err(|_| shutting_down())?,
            // The task's runtime went away (a test's runtime, say): start it again here.
            Err(mpsc::error::SendError(job)) => job,
        };
        self.restart()
            .send(job)
            .await
            .map_err(|_| shutting_down())?;
        // The task answers every job it takes, panics included: without an answer it was
        // stopped with its runtime.
        answer.await.map_err(|_| shutting_down())?
    }

    /// The task's queue, started on the current runtime on first use.
    fn queue(&self) -> mpsc::Sender<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        match &*jobs {
            Some(sender) if !sender.is_closed() => sender.clone(),
            _ => {
                let sender = self.start();
                *jobs = Some(sender.clone());
                sender
            }
        }
    }

    /// A new task, replacing the one whose queue closed.
    fn restart(&self) -> mpsc::Sender<Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let sender = self.start();
        *jobs = Some(sender.clone());
        sender
    }

    fn start(&self) -> mpsc::Sender<Job> {
        let (sender, queue) = mpsc::channel(self.max_group * 4);
        tokio::spawn(commit_groups(self.executor.clone(), queue, self.max_group));
        sender
    }
}

/// Counts a write in flight for as long as it is; knows whether it was the only one.
struct InFlight<'a> {
    count: &'a AtomicUsize,
    alone: bool,
}

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        let before = count.fetch_add(1, Ordering::AcqRel);
        Self {
            count,
            alone: before == 0,
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The task: takes what is queued, runs it as groups (one per hook), answers each write.
async fn commit_groups(executor: Executor, mut queue: mpsc::Receiver<Job>, max_group: usize) {
    while let Some(first) = queue.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < max_group {
            match queue.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        metrics::histogram!("repo_group_commit_size").record(jobs.len() as f64);
        for (hook, group) in by_hook(jobs) {
            let size = group.len();
            let (requests, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
            // The executor isolates a panic to the request that caused it; this catches
            // the rest, so the task never dies with a panic.
            let results = AssertUnwindSafe(executor.group(requests, hook.as_deref()))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    metrics::counter!("repo_group_commit_panics_total").increment(1);
                    tracing::error!(size, "a group commit panicked after running");
                    (0..size).map(|_| Err(internal())).collect()
                });
            for (reply, result) in replies.into_iter().zip(results) {
                // The caller may have gone away; the write ran all the same.
                let _ = reply.send(result);
            }
        }
    }
}

type Group = Vec<(Request, oneshot::Sender<Result<Response, RepoError>>)>;

/// The jobs split by hook (the same hook object), in order of first appearance: each part
/// is one transaction, since a hook's work (a ledger's rows) is done once per group.
fn by_hook(jobs: Vec<Job>) -> Vec<(Option<Arc<dyn TransactionHook>>, Group)> {
    let mut parts: Vec<(Option<Arc<dyn TransactionHook>>, Group)> = Vec::new();
    for job in jobs {
        let same = |hook: &Option<Arc<dyn TransactionHook>>| match (hook, &job.hook) {
            (None, None) => true,
            (Some(a), Some(b)) => std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)),
            _ => false,
        };
        match parts.iter_mut().find(|(hook, _)| same(hook)) {
            Some((_, group)) => group.push((job.request, job.reply)),
            None => parts.push((job.hook, vec![(job.request, job.reply)])),
        }
    }
    parts
}

fn shutting_down() -> RepoError {
    RepoError::Rejected {
        reason: RejectReason::ShuttingDown,
    }
}

fn internal() -> RepoError {
    RepoError::Internal {
        message: "the node failed while committing the write's group".into(),
    }
}
