//! The `Interactive` rpc: one interactive transaction from a replica, held on this node's
//! writer for the life of the stream.
//!
//! The transaction is a [`LocalSession`]: it enforces the limits the replica asked for
//! (capped by [`MAX_TRANSACTION`]) and rolls back at once when they pass or when this task
//! drops it — the stream ended or broke, or the replica went away. Every statement passes
//! the allowlist (writes as forwarded writes do; single queries too, so that a read sees
//! the transaction's own writes; never DDL, `PRAGMA` or transaction control: savepoints
//! are steps named by the server). The role is checked before every message; a demoted
//! node aborts the transaction ([`RepoError::TransactionAborted`]), and the writer's commit
//! guard closes the race at the commit itself. The commit records its request id in the
//! ledger in the same transaction (exactly once) and answers with the TXID after it; a
//! replica that lost that answer asks with `resolve`, never guesses.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use repo_core::spi::{LocalSession, Session, SessionStep, TransactionHook};
use repo_core::{
    Action, ExecSummary, Operation, Outcome, RepoError, Request, RequestId, TransactionLimits,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request as GrpcRequest, Response as GrpcResponse, Status, Streaming};

use super::ForwardServer;
use super::validate::check_in_transaction;
use crate::convert::{decode_request, encode_outcome, status_from_error};
use crate::proto as pb;

/// The longest transaction a replica may ask for, whatever it asks.
pub const MAX_TRANSACTION: Duration = Duration::from_secs(60);

/// The deepest savepoint a replica may open.
const MAX_SAVEPOINTS: u32 = 1_000;

/// The replies of one `Interactive` stream.
pub(super) type ReplyStream =
    Pin<Box<dyn Stream<Item = Result<pb::TransactionReply, Status>> + Send + 'static>>;

impl ForwardServer {
    /// Begins the transaction the stream's first message asks for and drives it in a task.
    pub(super) async fn interactive_stream(
        &self,
        request: GrpcRequest<Streaming<pb::TransactionMessage>>,
    ) -> Result<GrpcResponse<ReplyStream>, Status> {
        let mut inbound = request.into_inner();
        let begin = match inbound.message().await? {
            Some(pb::TransactionMessage {
                message: Some(pb::transaction_message::Message::Begin(begin)),
            }) => begin,
            Some(pb::TransactionMessage {
                message: Some(pb::transaction_message::Message::Resolve(id)),
            }) => {
                let answer = answer(self.resolve(id).await, None);
                let stream = futures::stream::iter([Ok(answer)]);
                return Ok(GrpcResponse::new(Box::pin(stream)));
            }
            _ => {
                return Err(status_from_error(&RepoError::InvalidRequest(
                    "an interactive transaction starts with `begin`".into(),
                )));
            }
        };
        self.check_primary().map_err(|e| status_from_error(&e))?;
        let limits = TransactionLimits::default()
            .max_duration(Duration::from_millis(begin.max_duration_ms).min(MAX_TRANSACTION))
            .max_idle(Duration::from_millis(begin.max_idle_ms).min(MAX_TRANSACTION));
        let session = LocalSession::begin(&self.inner.executor, limits)
            .await
            .map_err(|e| status_from_error(&e))?;
        let origin = crate::allowlist::sanitize(&begin.origin, 64);
        tracing::debug!(%origin, ?limits, "interactive transaction begun");
        let (replies, stream) = mpsc::channel(4);
        let _ = replies.send(Ok(reply(Reply::Begun(true)))).await;
        tokio::spawn(self.clone().drive(session, inbound, replies));
        Ok(GrpcResponse::new(Box::pin(ReceiverStream::new(stream))))
    }

    /// Answers the stream's messages until the transaction is over. Returning drops the
    /// session: an open transaction rolls back at once.
    async fn drive(
        self,
        session: LocalSession,
        mut inbound: Streaming<pb::TransactionMessage>,
        replies: mpsc::Sender<Result<pb::TransactionReply, Status>>,
    ) {
        loop {
            let message = tokio::select! {
                message = inbound.message() => message,
                error = session.ended() => {
                    let _ = replies.send(Ok(failure(&error))).await;
                    return;
                }
                () = replies.closed() => return,
            };
            let message = match message {
                Ok(Some(pb::TransactionMessage { message: Some(m) })) => m,
                // The replica closed the stream or it broke: roll back.
                Ok(_) | Err(_) => return,
            };
            if let Err(RepoError::NotPrimary { primary }) = self.check_primary() {
                let _ = session.rollback().await;
                metrics::counter!("litefs_interactive_aborted_total").increment(1);
                let error = RepoError::TransactionAborted { primary };
                let _ = replies.send(Ok(failure(&error))).await;
                return;
            }
            let (answer, last) = self.handle(&session, message).await;
            if let Some(answer) = answer
                && replies.send(Ok(answer)).await.is_err()
            {
                return;
            }
            if last {
                return;
            }
        }
    }

    /// One message's answer (none for `abandon`), and whether the transaction is over.
    async fn handle(
        &self,
        session: &LocalSession,
        message: pb::transaction_message::Message,
    ) -> (Option<pb::TransactionReply>, bool) {
        use pb::transaction_message::Message as M;
        match message {
            M::Begin(_) => (
                Some(failure(&RepoError::InvalidRequest(
                    "`begin` inside a transaction".into(),
                ))),
                false,
            ),
            M::Step(step) => (Some(answer(self.step(session, step).await, None)), false),
            M::Commit(id) => {
                let result = self.commit(session, id).await;
                let txid = match (&result, &self.inner.config.position) {
                    (Ok(()), Some(position)) => position.committed().await,
                    _ => None,
                };
                let outcome = result.map(|()| {
                    Outcome::Executed(ExecSummary {
                        rows_affected: 0,
                        last_insert_id: 0,
                    })
                });
                (Some(answer(outcome, txid)), true)
            }
            M::Rollback(_) => {
                let result = session.rollback().await.map(|()| {
                    Outcome::Executed(ExecSummary {
                        rows_affected: 0,
                        last_insert_id: 0,
                    })
                });
                (Some(answer(result, None)), true)
            }
            M::Resolve(_) => (
                Some(failure(&RepoError::InvalidRequest(
                    "`resolve` opens a stream of its own".into(),
                ))),
                false,
            ),
            M::Abandon(n) => {
                session.abandon(n);
                (None, n == 0)
            }
        }
    }

    /// Runs one step after checking it.
    async fn step(
        &self,
        session: &LocalSession,
        step: pb::TransactionStep,
    ) -> Result<Outcome, RepoError> {
        use pb::transaction_step::Step as S;
        let savepoint = |n: u32| {
            if n == 0 || n > MAX_SAVEPOINTS {
                Err(RepoError::InvalidRequest(format!(
                    "savepoint {n} is outside 1..={MAX_SAVEPOINTS}"
                )))
            } else {
                Ok(n)
            }
        };
        let step = match step.step {
            Some(S::Statement(message)) => {
                let request = decode_request(message).map_err(RepoError::from)?;
                let sql = match &request.operation {
                    Operation::Execute(stmt)
                    | Operation::Query {
                        statement: stmt, ..
                    } => &stmt.sql,
                    Operation::Transaction { .. } | Operation::Batch(_) => {
                        return Err(RepoError::InvalidRequest(
                            "an interactive transaction runs single statements only".into(),
                        ));
                    }
                };
                check_in_transaction(
                    sql,
                    &self
                        .inner
                        .config
                        .allowlist
                        .dialect(self.inner.config.dialect),
                )
                .map_err(|statement| RepoError::Rejected {
                    reason: repo_core::RejectReason::Statement(statement),
                })?;
                SessionStep::Statement(request.operation)
            }
            Some(S::Savepoint(n)) => SessionStep::Savepoint(savepoint(n)?),
            Some(S::Release(n)) => SessionStep::Release(savepoint(n)?),
            Some(S::RollbackTo(n)) => SessionStep::RollbackTo(savepoint(n)?),
            None => return Err(RepoError::InvalidRequest("an empty step".into())),
        };
        session.step(step).await
    }

    /// Commits, with the request id in the ledger when this server records one.
    async fn commit(&self, session: &LocalSession, id: Vec<u8>) -> Result<(), RepoError> {
        let id: [u8; 16] = id
            .try_into()
            .map_err(|_| RepoError::InvalidRequest("a request id is 16 bytes".into()))?;
        if !self.inner.config.ledger {
            return session.commit().await;
        }
        let mut request = Request::new(
            Action::Execute,
            "interactive transaction",
            Operation::Execute(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "COMMIT",
            )),
        );
        request.id = RequestId(uuid::Uuid::from_bytes(id));
        let hook: Arc<dyn TransactionHook> = self.inner.ledger.clone();
        session.commit_recorded(request, hook).await
    }

    /// Whether the commit of request `id` committed: looked up in the ledger once this
    /// node's writer is free (a transaction still holding it, the one that commit belonged
    /// to, has ended by then). Committed: `Ok`; not: [`RepoError::TransactionExpired`].
    async fn resolve(&self, id: Vec<u8>) -> Result<Outcome, RepoError> {
        let id: [u8; 16] = id
            .try_into()
            .map_err(|_| RepoError::InvalidRequest("a request id is 16 bytes".into()))?;
        self.check_primary()?;
        if !self.inner.config.ledger {
            return Err(RepoError::Rejected {
                reason: repo_core::RejectReason::misconfigured(
                    "this primary records no ledger: a lost commit cannot be resolved",
                ),
            });
        }
        let limits = TransactionLimits::default()
            .max_duration(MAX_TRANSACTION)
            .max_idle(MAX_TRANSACTION);
        // Holding the writer's turn while looking: nothing can commit meanwhile.
        let turn = LocalSession::begin(&self.inner.executor, limits).await?;
        let recorded =
            crate::ledger::lookup(self.inner.executor.connection(), uuid::Uuid::from_bytes(id))
                .await;
        let _ = turn.rollback().await;
        match recorded? {
            crate::ledger::Recorded::Absent | crate::ledger::Recorded::Abandoned => {
                Err(RepoError::TransactionExpired {
                    cause: repo_core::ExpiryCause::Disconnected,
                })
            }
            crate::ledger::Recorded::Answered(_) | crate::ledger::Recorded::Unreadable => {
                Ok(Outcome::Executed(ExecSummary {
                    rows_affected: 0,
                    last_insert_id: 0,
                }))
            }
        }
    }

    fn check_primary(&self) -> Result<(), RepoError> {
        let state = self.inner.tracker.current();
        if state.is_primary() {
            Ok(())
        } else {
            Err(RepoError::NotPrimary {
                primary: state.primary.clone(),
            })
        }
    }
}

use pb::transaction_reply::Reply;

fn reply(reply: Reply) -> pb::TransactionReply {
    pb::TransactionReply { reply: Some(reply) }
}

/// A step's answer: its outcome, or its error as the status a unary call would carry.
fn answer(result: Result<Outcome, RepoError>, txid: Option<u64>) -> pb::TransactionReply {
    match result.map(|outcome| encode_outcome(&outcome)) {
        Ok(Ok(outcome)) => reply(Reply::Done(pb::ForwardResponse {
            outcome: Some(outcome),
            txid,
        })),
        Ok(Err(e)) => failure(&RepoError::from(e)),
        Err(e) => failure(&e),
    }
}

fn failure(error: &RepoError) -> pb::TransactionReply {
    let status = status_from_error(error);
    reply(Reply::Failed(pb::StepFailure {
        code: status.code() as i32,
        message: status.message().to_owned(),
        details: status.details().to_vec(),
    }))
}
