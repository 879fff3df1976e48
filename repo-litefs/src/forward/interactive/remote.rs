//! `RemoteSession`: an interactive transaction held on the primary over one `Interactive`
//! stream, one message and one reply at a time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::{UnboundedSender, unbounded};
use futures::future::BoxFuture;
use repo_core::spi::{Session, SessionStep};
use repo_core::{
    CommitState, ExpiryCause, Outcome, RepoError, Request, RequestId, TransactionLimits,
};
use tokio::time::Instant;
use tonic::Streaming;

use super::GRACE;
use crate::convert::{decode_outcome, encode_request, error_from_status, status_from_error};
use crate::forward::Shared;
use crate::proto as pb;
use crate::secret::AUTHORIZATION;

/// An interactive transaction held on the primary over one stream.
#[derive(Debug)]
pub struct RemoteSession {
    /// The forwarding configuration and channel.
    pub(super) shared: Arc<Shared>,
    /// The primary holding the transaction.
    pub(super) primary: String,
    /// Messages to the primary.
    outbound: UnboundedSender<pb::TransactionMessage>,
    /// The primary's replies; locked for one message and its reply.
    inbound: tokio::sync::Mutex<Streaming<pb::TransactionReply>>,
    /// Why the transaction is over, once it is (as the status the primary sent).
    ended: Mutex<Option<pb::StepFailure>>,
    /// When to stop waiting for the primary.
    deadline: Instant,
    /// The limits, for the errors this side reports.
    limits: TransactionLimits,
}

impl RemoteSession {
    pub(super) async fn open(
        shared: Arc<Shared>,
        primary: String,
        limits: TransactionLimits,
    ) -> Result<Self, RepoError> {
        let config = &shared.config;
        let url = config.endpoints.resolve(&primary)?;
        let channel = shared
            .channel
            .get(&url, &primary, config.tls.as_ref(), config.plaintext)?;
        let (outbound, body) = unbounded();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let begin = pb::TransactionMessage {
            message: Some(pb::transaction_message::Message::Begin(
                pb::BeginTransaction {
                    max_duration_ms: ms(limits.duration()),
                    max_idle_ms: ms(limits.idle()),
                    origin: config.node_name.clone(),
                },
            )),
        };
        let _ = outbound.unbounded_send(begin);
        let mut grpc = tonic::Request::new(body);
        grpc.set_timeout(limits.duration() + GRACE);
        let bearer = config
            .secret
            .bearer()
            .parse()
            .map_err(|_| RepoError::Rejected {
                reason: repo_core::RejectReason::misconfigured(
                    "the cluster secret cannot be sent in a header (ClusterSecret)",
                ),
            })?;
        grpc.metadata_mut().insert(AUTHORIZATION, bearer);
        let mut client = pb::forwarder_client::ForwarderClient::new(channel)
            .max_decoding_message_size(64 * 1024 * 1024);
        let deadline = Instant::now() + limits.duration() + GRACE;
        let mut inbound = match tokio::time::timeout_at(deadline, client.interactive(grpc)).await {
            Ok(Ok(response)) => response.into_inner(),
            Ok(Err(status)) => return Err(error_from_status(&status, &primary).await),
            Err(_) => return Err(unreachable(&primary, "no answer to begin")),
        };
        match tokio::time::timeout_at(deadline, inbound.message()).await {
            Ok(Ok(Some(pb::TransactionReply {
                reply: Some(pb::transaction_reply::Reply::Begun(_)),
            }))) => {}
            Ok(Ok(Some(pb::TransactionReply {
                reply: Some(pb::transaction_reply::Reply::Failed(f)),
            }))) => return Err(decode_failure(&f, &primary).await),
            Ok(Err(status)) => return Err(error_from_status(&status, &primary).await),
            _ => return Err(unreachable(&primary, "the stream ended before begin")),
        }
        Ok(Self {
            shared,
            primary,
            outbound,
            inbound: tokio::sync::Mutex::new(inbound),
            ended: Mutex::new(None),
            deadline,
            limits,
        })
    }

    /// Sends `message` and reads its reply's outcome (and TXID).
    async fn exchange(
        &self,
        message: pb::transaction_message::Message,
        committing: bool,
    ) -> Result<(Outcome, Option<u64>), RepoError> {
        if let Some(failure) = self.ended() {
            return Err(decode_failure(&failure, &self.primary).await);
        }
        let mut inbound = self.inbound.lock().await;
        // A send to a closed stream is not an error here: the primary's last reply (why it
        // ended the transaction) may still be waiting to be read.
        let _ = self.outbound.unbounded_send(pb::TransactionMessage {
            message: Some(message),
        });
        let lost = |what: &str| {
            if committing {
                Err(RepoError::Unreachable {
                    node: self.primary.clone(),
                    message: format!("{what} during the commit"),
                    commit: CommitState::Unknown,
                })
            } else {
                Err(self.end(RepoError::TransactionExpired {
                    cause: ExpiryCause::Disconnected,
                }))
            }
        };
        let reply = match tokio::time::timeout_at(self.deadline, inbound.message()).await {
            Ok(Ok(Some(pb::TransactionReply { reply: Some(reply) }))) => reply,
            Ok(Ok(_)) => return lost("the stream ended"),
            Ok(Err(status)) => {
                let error = error_from_status(&status, &self.primary).await;
                if error.retry_whole_transaction() {
                    return Err(self.end(error));
                }
                return lost(&format!("the stream broke ({})", status.code()));
            }
            Err(_) if committing => return lost("no answer"),
            Err(_) => {
                return Err(self.end(RepoError::TransactionExpired {
                    cause: ExpiryCause::MaxDuration {
                        limit: self.limits.duration(),
                    },
                }));
            }
        };
        drop(inbound);
        match reply {
            pb::transaction_reply::Reply::Done(done) => {
                let outcome = done
                    .outcome
                    .ok_or_else(|| RepoError::Codec("a reply without an outcome".into()))?;
                Ok((decode_outcome(outcome).map_err(RepoError::from)?, done.txid))
            }
            pb::transaction_reply::Reply::Failed(failure) => {
                let error = decode_failure(&failure, &self.primary).await;
                if error.retry_whole_transaction() {
                    self.remember(failure);
                }
                // A statement's database error becomes the error the same failure would be
                // here (on PostgreSQL: raised again, so that `sql_err()` classifies it).
                Err(match &self.shared.config.backend {
                    Some(backend) => backend.restore_error(error).await,
                    None => error,
                })
            }
            pb::transaction_reply::Reply::Begun(_) => {
                Err(RepoError::Codec("`begun` inside a transaction".into()))
            }
        }
    }

    fn ended(&self) -> Option<pb::StepFailure> {
        self.ended.lock().ok().and_then(|e| e.clone())
    }

    fn remember(&self, failure: pb::StepFailure) {
        if let Ok(mut ended) = self.ended.lock() {
            ended.get_or_insert(failure);
        }
    }

    /// Remembers `error` as the end of the transaction, and returns it.
    fn end(&self, error: RepoError) -> RepoError {
        let status = status_from_error(&error);
        self.remember(pb::StepFailure {
            code: status.code() as i32,
            message: status.message().to_owned(),
            details: status.details().to_vec(),
        });
        error
    }

    /// Committed or rolled back: later steps are told it is over.
    fn closed(&self) {
        let _ = self.end(RepoError::TransactionExpired {
            cause: ExpiryCause::Closed,
        });
    }
}

impl Session for RemoteSession {
    fn step(&self, step: SessionStep) -> BoxFuture<'_, Result<Outcome, RepoError>> {
        Box::pin(async move {
            use pb::transaction_step::Step as S;
            let step = match step {
                SessionStep::Statement(operation) => {
                    let request = Request::new(repo_core::Action::Execute, "", operation);
                    let message = encode_request(&request, &self.shared.config.node_name)
                        .map_err(RepoError::from)?;
                    S::Statement(message)
                }
                SessionStep::Savepoint(n) => S::Savepoint(n),
                SessionStep::Release(n) => S::Release(n),
                SessionStep::RollbackTo(n) => S::RollbackTo(n),
            };
            let message =
                pb::transaction_message::Message::Step(pb::TransactionStep { step: Some(step) });
            self.exchange(message, false)
                .await
                .map(|(outcome, _)| outcome)
        })
    }

    fn commit(&self) -> BoxFuture<'_, Result<(), RepoError>> {
        Box::pin(async move {
            let id = RequestId::new();
            let message = pb::transaction_message::Message::Commit(id.0.as_bytes().to_vec());
            let result = self.exchange(message, true).await;
            self.closed();
            let txid = match result {
                Ok((_, txid)) => txid,
                // The answer was lost: ask the primary, never guess.
                Err(lost @ RepoError::Unreachable { .. }) => {
                    self.resolve(id).await.map_err(|()| lost)??;
                    None
                }
                Err(other) => return Err(other),
            };
            let config = &self.shared.config;
            if let Some(wait) = &config.read_your_writes {
                // A TXID only compares within one primary's lineage (see `send`).
                let same_primary =
                    config.tracker.current().primary.as_deref() == Some(self.primary.as_str());
                let txid = txid.filter(|_| same_primary);
                wait.wait_for(id.0, txid, None).await?;
            }
            Ok(())
        })
    }

    fn rollback(&self) -> BoxFuture<'_, Result<(), RepoError>> {
        Box::pin(async move {
            let message = pb::transaction_message::Message::Rollback(true);
            let result = self.exchange(message, false).await;
            self.closed();
            result.map(drop)
        })
    }

    fn abandon(&self, n: u32) {
        let _ = self.outbound.unbounded_send(pb::TransactionMessage {
            message: Some(pb::transaction_message::Message::Abandon(n)),
        });
        if n == 0 {
            self.closed();
        }
    }
}

/// The error a `failed` reply carries.
pub(super) async fn decode_failure(failure: &pb::StepFailure, primary: &str) -> RepoError {
    let status = tonic::Status::with_details(
        tonic::Code::from_i32(failure.code),
        failure.message.clone(),
        failure.details.clone().into(),
    );
    error_from_status(&status, primary).await
}

fn unreachable(node: &str, message: &str) -> RepoError {
    RepoError::Unreachable {
        node: node.to_owned(),
        message: message.to_owned(),
        commit: CommitState::NotCommitted,
    }
}
