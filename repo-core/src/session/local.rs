//! `LocalSession`: an interactive transaction held on this node's writer by a task that
//! owns the writer's turn and enforces the transaction's limits — the one owner of the
//! expiry rules, on a primary's own transactions and on those a replica streams to it.
//!
//! The task waits for the next command no longer than the idle gap and the maximum
//! duration allow; each statement runs under the writer's budget, capped by the
//! transaction's deadline (SQLite interrupts it; PostgreSQL cancels it, the transaction's
//! `statement_timeout` set to the time left before each statement). When a limit passes,
//! when every handle is dropped (the caller or the stream went away), or after an
//! interrupted statement (SQLite rolled back), the task rolls back at once, releases the
//! writer, and records why; every later command gets [`RepoError::TransactionExpired`]. A
//! commit refused by the writer's [`crate::CommitGuard`] (this node was demoted) is
//! [`RepoError::TransactionAborted`].

use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::error::RepoError;
use crate::executor::{Executor, query, roll_back, summary};
use crate::hooked::TransactionHook;
use crate::request::{Operation, Request};
use crate::response::{ExecSummary, Outcome, Response};
use crate::session::{ExpiryCause, Session, SessionStep, TransactionLimits};
use crate::writer::Turn;

/// What a session ended with, kept for every later command.
#[derive(Debug, Clone)]
enum Ended {
    /// Rolled back (or finished): later commands are told why.
    Expired(ExpiryCause),
    /// The node stopped being the primary.
    Aborted(Option<String>),
}

impl Ended {
    fn error(&self) -> RepoError {
        match self {
            Ended::Expired(cause) => RepoError::TransactionExpired {
                cause: cause.clone(),
            },
            Ended::Aborted(primary) => RepoError::TransactionAborted {
                primary: primary.clone(),
            },
        }
    }
}

/// Work recorded in the same transaction as a commit (the ledger row of its request id).
struct CommitRecord {
    request: Request,
    hook: Arc<dyn TransactionHook>,
}

type Reply<T> = oneshot::Sender<Result<T, RepoError>>;

enum Command {
    Step(SessionStep, Reply<Outcome>),
    Commit(Option<CommitRecord>, Reply<()>),
    Rollback(Reply<()>),
    Abandon(u32),
}

/// An interactive transaction on this node's writer (see the module docs). Dropping every
/// clone rolls it back at once.
#[derive(Debug, Clone)]
pub struct LocalSession {
    /// To the task holding the transaction.
    commands: mpsc::UnboundedSender<Command>,
    /// Set by the task when the transaction is over, before it stops taking commands.
    ended: watch::Receiver<Option<Ended>>,
}

impl LocalSession {
    /// Takes the writer's turn (waiting no longer than the maximum duration) and begins an
    /// immediate transaction on it, bounded by `limits`.
    ///
    /// # Errors
    ///
    /// [`RepoError::Timeout`] when the writer stayed busy, [`RepoError::NotPrimary`] when
    /// the commit guard refuses, a database error when `BEGIN` fails.
    pub async fn begin(executor: &Executor, limits: TransactionLimits) -> Result<Self, RepoError> {
        let started = Instant::now();
        let deadline = started + limits.duration();
        let writer = executor.writer();
        let mut turn = writer.turn(Some(deadline)).await?;
        turn.budget_for(Some(deadline));
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let txn = match writer.connection().begin_with_options(options).await {
            Ok(txn) => txn,
            Err(e) => {
                turn.finish();
                return Err(e.into());
            }
        };
        let (commands, inbox) = mpsc::unbounded_channel();
        let (ended_tx, ended) = watch::channel(None);
        tokio::spawn(hold(turn, txn, limits, deadline, inbox, ended_tx));
        metrics::counter!("repo_interactive_transactions_total").increment(1);
        Ok(Self { commands, ended })
    }

    /// Commits, recording `request` with `hook` in the same transaction first (a ledger
    /// row: exactly once). A request the hook already knows is answered as committed and
    /// this transaction rolled back.
    pub async fn commit_recorded(
        &self,
        request: Request,
        hook: Arc<dyn TransactionHook>,
    ) -> Result<(), RepoError> {
        self.ask(|reply| Command::Commit(Some(CommitRecord { request, hook }), reply))
            .await
    }

    /// Resolves once the transaction is over, whatever ended it, with the error later
    /// commands get.
    pub async fn ended(&self) -> RepoError {
        let mut ended = self.ended.clone();
        match ended.wait_for(Option::is_some).await {
            Ok(value) => value.as_ref().map_or_else(closed, Ended::error),
            Err(_) => closed(),
        }
    }

    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, RepoError> {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(command(reply)).is_err() {
            return Err(self.end_error());
        }
        answer.await.unwrap_or_else(|_| Err(self.end_error()))
    }

    fn end_error(&self) -> RepoError {
        self.ended.borrow().as_ref().map_or_else(
            || RepoError::Internal {
                message: "the task holding the transaction stopped".into(),
            },
            Ended::error,
        )
    }
}

fn closed() -> RepoError {
    RepoError::TransactionExpired {
        cause: ExpiryCause::Closed,
    }
}

impl Session for LocalSession {
    fn step(&self, step: SessionStep) -> BoxFuture<'_, Result<Outcome, RepoError>> {
        Box::pin(self.ask(|reply| Command::Step(step, reply)))
    }

    fn commit(&self) -> BoxFuture<'_, Result<(), RepoError>> {
        Box::pin(self.ask(|reply| Command::Commit(None, reply)))
    }

    fn rollback(&self) -> BoxFuture<'_, Result<(), RepoError>> {
        Box::pin(self.ask(Command::Rollback))
    }

    fn abandon(&self, n: u32) {
        let _ = self.commands.send(Command::Abandon(n));
    }
}

/// The task holding the transaction: runs commands until the transaction is over.
async fn hold(
    mut turn: Turn,
    txn: DatabaseTransaction,
    limits: TransactionLimits,
    deadline: Instant,
    mut inbox: mpsc::UnboundedReceiver<Command>,
    ended: watch::Sender<Option<Ended>>,
) {
    let mut txn = Some(txn);
    let end = loop {
        let idle = Instant::now() + limits.idle();
        let (wake, cause) = if idle < deadline {
            (
                idle,
                ExpiryCause::Idle {
                    limit: limits.idle(),
                },
            )
        } else {
            (
                deadline,
                ExpiryCause::MaxDuration {
                    limit: limits.duration(),
                },
            )
        };
        let command = tokio::select! {
            command = inbox.recv() => command,
            () = tokio::time::sleep_until(wake) => break Ended::Expired(cause),
        };
        let Some(txn_ref) = txn.as_ref() else {
            break Ended::Expired(ExpiryCause::Closed);
        };
        match command {
            None => break Ended::Expired(ExpiryCause::Disconnected),
            Some(Command::Step(step, reply)) => {
                turn.budget_for(Some(deadline));
                if matches!(step, SessionStep::Statement(_))
                    && let Err(e) = turn.bound_session(txn_ref, deadline).await
                {
                    // A transaction that failed already refuses the bound too: the
                    // statement then fails on its own, as it would have.
                    tracing::debug!(error = %e, "statement not bounded by the server");
                }
                let result = run_step(txn_ref, step).await;
                let result = match result {
                    Err(_) if turn.expired() => Err(match turn.interruption() {
                        RepoError::Timeout { .. } => RepoError::TransactionExpired {
                            cause: ExpiryCause::MaxDuration {
                                limit: limits.duration(),
                            },
                        },
                        other => other,
                    }),
                    other => other,
                };
                // An interrupted statement rolled the whole transaction back.
                let over = matches!(
                    result,
                    Err(RepoError::Interrupted { .. } | RepoError::TransactionExpired { .. })
                );
                let _ = reply.send(result);
                if over {
                    break Ended::Expired(ExpiryCause::Closed);
                }
            }
            Some(Command::Abandon(0)) => break Ended::Expired(ExpiryCause::Closed),
            Some(Command::Abandon(n)) => {
                let _ = rollback_to(txn_ref, n).await;
            }
            Some(Command::Rollback(reply)) => {
                if let Some(txn) = txn.take() {
                    roll_back(txn).await;
                }
                let _ = reply.send(Ok(()));
                break Ended::Expired(ExpiryCause::Closed);
            }
            Some(Command::Commit(record, reply)) => {
                let Some(txn) = txn.take() else {
                    break Ended::Expired(ExpiryCause::Closed);
                };
                turn.budget_for(Some(deadline));
                let result = commit(txn, record).await;
                let result = turn.classify(result);
                let end = match &result {
                    Err(RepoError::NotPrimary { primary }) => Ended::Aborted(primary.clone()),
                    _ => Ended::Expired(ExpiryCause::Closed),
                };
                let result = result.map_err(|e| match e {
                    RepoError::NotPrimary { primary } => RepoError::TransactionAborted { primary },
                    RepoError::Interrupted { .. } | RepoError::Timeout { .. } => {
                        RepoError::TransactionExpired {
                            cause: ExpiryCause::MaxDuration {
                                limit: limits.duration(),
                            },
                        }
                    }
                    other => other,
                });
                let _ = reply.send(result);
                break end;
            }
        }
    };
    if let Some(txn) = txn.take() {
        roll_back(txn).await;
    }
    if matches!(
        end,
        Ended::Expired(ExpiryCause::Idle { .. } | ExpiryCause::MaxDuration { .. })
    ) {
        metrics::counter!("repo_interactive_transactions_expired_total").increment(1);
    }
    turn.finish();
    drop(turn);
    let _ = ended.send(Some(end));
    // Commands that arrived meanwhile are answered with the recorded end.
    drop(inbox);
}

/// Runs one step inside `txn`.
async fn run_step(txn: &DatabaseTransaction, step: SessionStep) -> Result<Outcome, RepoError> {
    if let SessionStep::Statement(operation) = &step {
        crate::execution::sqlite_arrays::refuse_arrays(txn.get_database_backend(), operation)?;
    }
    match step {
        SessionStep::Statement(Operation::Execute(stmt)) => Ok(Outcome::Executed(summary(
            txn.get_database_backend(),
            &txn.execute_raw(stmt).await?,
        ))),
        SessionStep::Statement(Operation::Query {
            statement,
            shape,
            fetch,
        }) => query(txn, statement, shape.as_deref(), fetch)
            .await
            .map(Outcome::Rows),
        SessionStep::Statement(_) => Err(RepoError::InvalidRequest(
            "an interactive transaction runs statements only".into(),
        )),
        SessionStep::Savepoint(n) => savepoint(txn, "SAVEPOINT", n).await,
        SessionStep::Release(n) => savepoint(txn, "RELEASE SAVEPOINT", n).await,
        SessionStep::RollbackTo(n) => rollback_to(txn, n).await,
    }
}

async fn savepoint(txn: &DatabaseTransaction, verb: &str, n: u32) -> Result<Outcome, RepoError> {
    let result = txn
        .execute_unprepared(&format!("{verb} repo_savepoint_{n}"))
        .await?;
    Ok(Outcome::Executed(summary(
        txn.get_database_backend(),
        &result,
    )))
}

async fn rollback_to(txn: &DatabaseTransaction, n: u32) -> Result<Outcome, RepoError> {
    savepoint(txn, "ROLLBACK TO SAVEPOINT", n).await?;
    savepoint(txn, "RELEASE SAVEPOINT", n).await
}

/// Records `record` (if any) and commits.
async fn commit(txn: DatabaseTransaction, record: Option<CommitRecord>) -> Result<(), RepoError> {
    if let Some(CommitRecord { request, hook }) = record {
        match hook.before(&txn, &request).await {
            // Already committed under this id: exactly once.
            Ok(Some(_)) => {
                roll_back(txn).await;
                return Ok(());
            }
            Ok(None) => {}
            Err(e) => {
                roll_back(txn).await;
                return Err(e);
            }
        }
        let response = Response::new(Outcome::Executed(ExecSummary {
            rows_affected: 0,
            last_insert_id: 0,
        }));
        if let Err(e) = hook.after(&txn, &request, &response).await {
            roll_back(txn).await;
            return Err(e);
        }
    }
    txn.commit().await.map_err(RepoError::from)
}
