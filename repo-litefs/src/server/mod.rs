//! The forwarding server: runs on every node, executes forwarded writes on the primary.
//!
//! A request is refused, writing nothing, when the caller is not authenticated (the
//! cluster secret in `authorization`, compared in constant time, checked by an interceptor
//! before the body is read), when the message is too large, when this node is not the
//! primary (`FAILED_PRECONDITION`, naming the primary it knows), when its deadline has
//! passed, when a statement is not a single data-changing statement or a transaction name
//! is not registered. An accepted write runs on this node's [`Executor`], with at most
//! `max_concurrency` at a time, in one database transaction with its [`crate::ledger`] row
//! (exactly once; the role is checked again inside that transaction); writes that arrive
//! together (statements, named transactions, batches) are committed together (group
//! commit), each still getting its own result. [`serve`] stops accepting on shutdown and finishes the
//! writes in flight.

mod config;
mod interactive;
mod shape;
mod validate;
mod write_log;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use repo_core::{Executor, RepoError, Response};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tonic::transport::server::TcpIncoming;
use tonic::{Request as GrpcRequest, Response as GrpcResponse, Status};
use tracing::Instrument;

pub use config::ServerConfig;
pub use interactive::MAX_TRANSACTION;
pub use shape::MAX_NAME_BYTES;

use crate::ledger::LedgerHook;
use repo_core::spi::Ledger;

use crate::convert::{decode_request, encode_outcome, status_from_error};
use crate::proto as pb;
use crate::secret::{AUTHORIZATION, ClusterSecret};
use crate::tracker::PrimaryTracker;

/// The `Forwarder` gRPC service of one node.
#[derive(Clone, Debug)]
pub struct ForwardServer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Runs accepted writes on the local database.
    executor: Executor,
    /// Says whether this node is the primary, without I/O.
    tracker: PrimaryTracker,
    /// Bounds the writes executing at a time.
    permits: Arc<Semaphore>,
    /// Records each write's request id in its transaction (exactly once).
    ledger: Arc<LedgerHook>,
    config: ServerConfig,
}

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
#[error("forwarding server failed: {0}")]
pub struct ServeError(#[from] tonic::transport::Error);

impl ForwardServer {
    /// A server that executes on `executor` when `tracker` says this node is the primary.
    pub fn new(executor: Executor, tracker: PrimaryTracker, config: ServerConfig) -> Self {
        let permits = Arc::new(Semaphore::new(config.max_concurrency));
        let ledger = Arc::new(
            LedgerHook::new(
                tracker.clone(),
                executor.connection().clone(),
                config.ledger_retention,
            )
            .recording(config.ledger),
        );
        Self {
            inner: Arc::new(Inner {
                executor,
                tracker,
                permits,
                ledger,
                config,
            }),
        }
    }

    /// Serves on `listener` until `shutdown` resolves, then finishes in-flight writes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        serve(listener, self, shutdown).await
    }

    /// `error` as the sender must see it: [`RepoError::NotPrimary`] when this node's
    /// database refused the write as a replica's (it did not run), else unchanged.
    fn replica_refusal(&self, error: RepoError) -> RepoError {
        match &self.inner.config.backend {
            Some(backend) if backend.is_replica_refusal(&error) => {
                metrics::counter!("litefs_forward_replica_refusals_total").increment(1);
                RepoError::NotPrimary {
                    primary: self.inner.tracker.current().primary.filter(|p| {
                        // Never point the sender back here.
                        p != &self.inner.config.node_name
                    }),
                }
            }
            _ => error,
        }
    }

    async fn execute_write(&self, message: pb::ForwardRequest) -> Result<Response, RepoError> {
        let state = self.inner.tracker.current();
        if !state.is_primary() {
            return Err(RepoError::NotPrimary {
                primary: state.primary.clone(),
            });
        }
        let request = decode_request(message).map_err(RepoError::from)?;
        request.check_deadline()?;
        let durability = (request.durability, request.deadline);
        if let Some(gate) = &self.inner.config.durability {
            gate.check(durability.0)?;
        } else if request.durability == Some(repo_core::Durability::Candidates) {
            crate::durability::DurabilityGate::primary_only(&self.inner.config.node_name)
                .check(durability.0)?;
        }
        shape::check_shape(&request, self.inner.config.max_batch_steps)?;
        // The permit comes before parsing: at most `max_concurrency` statements are parsed
        // (and held in memory) at a time, however many arrive.
        let wait = request.deadline.map_or(self.inner.config.permit_wait, |d| {
            d.saturating_duration_since(Instant::now())
        });
        let permit = tokio::time::timeout(wait, self.inner.permits.clone().acquire_owned())
            .await
            .map_err(|_| RepoError::Timeout {
                commit: repo_core::CommitState::NotCommitted,
            })?
            .map_err(|_| RepoError::Rejected {
                reason: repo_core::RejectReason::ShuttingDown,
            })?;
        validate::validate(
            &request,
            self.inner.executor.transactions(),
            &self
                .inner
                .config
                .allowlist
                .dialect(self.inner.config.dialect),
        )?;
        // A write joins the executor's group commit when other writes are in
        // flight; alone, a write runs at once, in this task, on the executor's writer. If
        // the caller goes away mid-write, the statement still completes or is interrupted
        // by its budget, and a transaction or batch rolls back whole: the outcome is
        // atomic, the next write waits for it, and a retry with the same request id is
        // answered by the ledger.
        let began = tokio::time::Instant::now();
        let result = if self.inner.config.ledger {
            let ledger: Arc<dyn Ledger> = self.inner.ledger.clone();
            self.inner.executor.execute_once(request, ledger).await
        } else {
            self.inner.executor.execute(request).await
        };
        drop(permit);
        let response = result.map_err(|e| self.replica_refusal(e))?;
        if let Some(gate) = &self.inner.config.durability {
            gate.settle(durability.0, durability.1, began).await?;
        }
        Ok(response)
    }
}

#[tonic::async_trait]
impl pb::forwarder_server::Forwarder for ForwardServer {
    async fn execute(
        &self,
        request: GrpcRequest<pb::ForwardRequest>,
    ) -> Result<GrpcResponse<pb::ForwardResponse>, Status> {
        let correlation = crate::correlation::read(request.metadata());
        let message = request.into_inner();
        let span = write_log::span(correlation.as_ref(), &message);
        let started = Instant::now();
        let work = AssertUnwindSafe(self.execute_write(message)).catch_unwind();
        // Writes decoded in this scope carry the id: the executor's own spans see it too.
        let caught = match correlation {
            Some(id) => id.scope(work.instrument(span.clone())).await,
            None => work.instrument(span.clone()).await,
        };
        // A panic while handling one request fails that request only.
        let result = caught.unwrap_or_else(|_| {
            metrics::counter!("litefs_forward_panics_total").increment(1);
            tracing::error!(parent: &span, "a forwarded write panicked in the server; answered INTERNAL");
            Err(RepoError::Internal {
                message: "the primary failed while handling the write; it rolled back".into(),
            })
        });
        write_log::outcome(&span, &self.inner.config.node_name, started, &result);
        match result {
            Ok(response) => {
                let outcome = encode_outcome(&response.outcome)
                    .map_err(|e| Status::internal(e.to_string()))?;
                let txid = match &self.inner.config.position {
                    Some(position) => position.committed().await,
                    None => None,
                };
                Ok(GrpcResponse::new(pb::ForwardResponse {
                    outcome: Some(outcome),
                    txid,
                }))
            }
            Err(error) => Err(status_from_error(&error)),
        }
    }

    async fn lookup(
        &self,
        request: GrpcRequest<pb::LookupRequest>,
    ) -> Result<GrpcResponse<pb::LookupResponse>, Status> {
        let request = request.into_inner();
        let id: [u8; 16] = request.request_id.try_into().map_err(|_| {
            status_from_error(&RepoError::InvalidRequest(
                "request_id must be 16 bytes".into(),
            ))
        })?;
        let outcome = crate::ledger::resolve(
            &self.inner.executor,
            &self.inner.tracker,
            repo_core::RequestId(uuid::Uuid::from_bytes(id)),
            request.settle,
        )
        .await
        .map_err(|e| status_from_error(&e))?;
        crate::convert::encode_lookup(&outcome)
            .map(GrpcResponse::new)
            .map_err(|e| Status::internal(e.to_string()))
    }

    type InteractiveStream = interactive::ReplyStream;

    async fn interactive(
        &self,
        request: GrpcRequest<tonic::Streaming<pb::TransactionMessage>>,
    ) -> Result<GrpcResponse<Self::InteractiveStream>, Status> {
        self.interactive_stream(request).await
    }

    async fn report_position(
        &self,
        request: GrpcRequest<pb::PositionReport>,
    ) -> Result<GrpcResponse<pb::PositionAck>, Status> {
        let report = request.into_inner();
        let state = self.inner.tracker.current();
        // A node name is a hostname: short, no control characters (it may reach a log).
        let accepted = state.is_primary()
            && report.node.len() <= MAX_NAME_BYTES
            && !report.node.chars().any(char::is_control);
        if accepted && let Some(gate) = &self.inner.config.durability {
            gate.record(
                &report.node,
                crate::durability::Position {
                    lineage: report.lineage,
                    txid: report.txid,
                    checksum: report.checksum,
                },
            )
            .await;
        }
        Ok(GrpcResponse::new(pb::PositionAck { accepted }))
    }

    async fn ping(
        &self,
        request: GrpcRequest<pb::PingRequest>,
    ) -> Result<GrpcResponse<pb::PingResponse>, Status> {
        let state = self.inner.tracker.current();
        Ok(GrpcResponse::new(pb::PingResponse {
            payload: request.into_inner().payload,
            is_primary: state.is_primary(),
            primary: state.primary.clone(),
        }))
    }
}

/// Checks the cluster secret before a request's body is read.
#[derive(Clone)]
struct Authenticate(ClusterSecret);

impl tonic::service::Interceptor for Authenticate {
    fn call(&mut self, request: GrpcRequest<()>) -> Result<GrpcRequest<()>, Status> {
        match request.metadata().get(AUTHORIZATION) {
            Some(value) if self.0.matches(value.as_bytes()) => Ok(request),
            Some(_) => Err(Status::unauthenticated("wrong cluster secret")),
            None => Err(Status::unauthenticated(
                "missing cluster secret (authorization: Bearer …)",
            )),
        }
    }
}

/// Serves `server` on `listener` (TCP_NODELAY on every connection) until `shutdown`
/// resolves; in-flight writes finish before it returns.
pub async fn serve(
    listener: TcpListener,
    server: ForwardServer,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let config = server.inner.config.clone();
    if let Ok(addr) = listener.local_addr() {
        config.warn_if_exposed(addr);
    }
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let service = pb::forwarder_server::ForwarderServer::new(server)
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(64 * 1024 * 1024);
    let authenticated = tonic::service::interceptor::InterceptedService::new(
        service,
        Authenticate(config.secret.clone()),
    );
    let mut builder = tonic::transport::Server::builder();
    if let Some(identity) = config.tls.clone() {
        builder =
            builder.tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))?;
    }
    builder
        .tcp_keepalive(Some(Duration::from_secs(30)))
        .add_service(authenticated)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}
