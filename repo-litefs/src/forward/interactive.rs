//! `InteractiveSessions`: where a LiteFS node holds an interactive transaction — on its own
//! writer when it is the primary, on the primary over one `Interactive` stream when it is
//! a replica ([`RemoteSession`]).
//!
//! Each step is one message and one reply, in order. Once the primary reports the
//! transaction over (its limits, a demotion), or the stream breaks, the session remembers
//! why and answers every later step with that error, without sending it: never a statement
//! outside the transaction. A commit whose answer is lost is resolved by asking the primary
//! (a `resolve` stream: it waits for its writer, then looks the commit's request id up in
//! its ledger): committed, or [`RepoError::TransactionExpired`]; only when the primary
//! cannot answer is it reported as possibly committed ([`RepoError::Unreachable`] with
//! [`CommitState::Unknown`]). After a commit, the session waits until this node reads its
//! own writes, as a forwarded write does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc::{UnboundedSender, unbounded};
use futures::future::BoxFuture;
use repo_core::spi::{LocalSession, Session, SessionOpener, SessionStep};
use repo_core::{
    CommitState, Executor, ExpiryCause, Outcome, RepoError, Request, RequestId, TransactionLimits,
};
use tokio::time::Instant;
use tonic::Streaming;

use super::{ForwardLayer, Shared, wait_for_primary};
use crate::convert::{decode_outcome, encode_request, error_from_status, status_from_error};
use crate::proto as pb;
use crate::secret::AUTHORIZATION;

/// How much longer than the transaction's maximum duration a replica waits for an answer
/// before it considers the stream lost.
const GRACE: Duration = Duration::from_secs(2);

/// Opens interactive transactions for a node's repository (set by [`crate::Node`]).
#[derive(Debug, Clone)]
pub struct InteractiveSessions {
    shared: Arc<Shared>,
}

impl ForwardLayer {
    /// Where this node's interactive transactions are held: give it to
    /// `RepoBuilder::sessions` (as [`crate::Node`] does).
    pub fn interactive_sessions(&self) -> InteractiveSessions {
        InteractiveSessions {
            shared: self.shared.clone(),
        }
    }
}

impl SessionOpener for InteractiveSessions {
    fn open<'a>(
        &'a self,
        executor: &'a Executor,
        limits: TransactionLimits,
    ) -> BoxFuture<'a, Result<Arc<dyn Session>, RepoError>> {
        Box::pin(async move {
            let deadline = Instant::now() + limits.duration();
            let state = self.shared.config.tracker.current();
            if state.is_primary() {
                return Ok(Arc::new(LocalSession::begin(executor, limits).await?) as Arc<_>);
            }
            let state = wait_for_primary(&self.shared, Some(deadline)).await?;
            match state.primary.clone() {
                Some(_) if state.is_primary() => {
                    Ok(Arc::new(LocalSession::begin(executor, limits).await?) as Arc<_>)
                }
                Some(primary) => Ok(Arc::new(
                    RemoteSession::open(self.shared.clone(), primary, limits).await?,
                ) as Arc<_>),
                None => Err(RepoError::PrimaryUnavailable {
                    waited: limits.duration(),
                }),
            }
        })
    }
}

/// An interactive transaction held on the primary over one stream.
#[derive(Debug)]
pub struct RemoteSession {
    /// The forwarding configuration and channel.
    shared: Arc<Shared>,
    /// The primary holding the transaction.
    primary: String,
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
    async fn open(
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
                Err(error)
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

    fn closed(&self) {
        self.remember_closed();
    }

    fn remember_closed(&self) {
        let _ = self.end(RepoError::TransactionExpired {
            cause: ExpiryCause::Closed,
        });
    }
}

impl RemoteSession {
    /// Asks the primary, on a stream of its own, whether the commit of `id` committed:
    /// `Ok(Ok(()))` it did, `Ok(Err(e))` it did not (`e` says why), `Err(())` no answer.
    async fn resolve(&self, id: RequestId) -> Result<Result<(), RepoError>, ()> {
        for attempt in 0..3_u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100) * attempt).await;
            }
            if let Some(answer) = self.ask_resolve(id).await {
                metrics::counter!("litefs_interactive_commits_resolved_total").increment(1);
                return Ok(answer);
            }
        }
        Err(())
    }

    /// One `resolve` stream; `None` when it got no definite answer.
    async fn ask_resolve(&self, id: RequestId) -> Option<Result<(), RepoError>> {
        let config = &self.shared.config;
        let url = config.endpoints.resolve(&self.primary).ok()?;
        let channel = self
            .shared
            .channel
            .get(&url, &self.primary, config.tls.as_ref(), config.plaintext)
            .ok()?;
        let message = pb::TransactionMessage {
            message: Some(pb::transaction_message::Message::Resolve(
                id.0.as_bytes().to_vec(),
            )),
        };
        let mut grpc = tonic::Request::new(futures::stream::iter([message]));
        grpc.set_timeout(crate::server::MAX_TRANSACTION + GRACE);
        grpc.metadata_mut()
            .insert(AUTHORIZATION, config.secret.bearer().parse().ok()?);
        let mut client = pb::forwarder_client::ForwarderClient::new(channel);
        let mut inbound = client.interactive(grpc).await.ok()?.into_inner();
        match inbound.message().await.ok()??.reply? {
            pb::transaction_reply::Reply::Done(_) => Some(Ok(())),
            pb::transaction_reply::Reply::Failed(failure) => {
                let error = decode_failure(&failure, &self.primary).await;
                // Only "it did not commit" settles it; anything else leaves it unknown.
                error.retry_whole_transaction().then_some(Err(error))
            }
            pb::transaction_reply::Reply::Begun(_) => None,
        }
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

async fn decode_failure(failure: &pb::StepFailure, primary: &str) -> RepoError {
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
