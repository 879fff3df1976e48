//! The forwarding layer: on a replica, sends each write to the primary and returns its
//! answer without calling the inner service; on the primary, calls the inner service.
//!
//! The role comes from the [`PrimaryTracker`]'s in-memory state: no I/O per write. When no
//! primary is known, a write waits for one, bounded by `primary_wait` and its own deadline,
//! then fails with [`RepoError::PrimaryUnavailable`]. The request's deadline becomes the
//! gRPC deadline; the channel (one HTTP/2 connection, TCP_NODELAY) is reused across calls
//! and switched when the primary changes. A write whose connection fails after it was sent
//! (commit unknown) is looked up once in the primary's ledger: if it committed, its recorded
//! answer is returned and nothing is sent again.

pub(crate) mod channel;
mod consistency;
mod endpoints;
mod interactive;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use repo_core::{NodeRole, RepoError, Request, Response};
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};

pub use consistency::{ChangeSignal, FileMark, Fingerprint, OnLag, ReadYourWrites};
pub use endpoints::Endpoints;
pub use interactive::{InteractiveSessions, RemoteSession};

use crate::convert::{decode_outcome, encode_request, error_from_status};
use crate::proto as pb;
use crate::secret::{AUTHORIZATION, ClusterSecret};
use crate::tracker::PrimaryTracker;
use channel::PrimaryChannel;

/// How a replica forwards its writes.
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    tracker: PrimaryTracker,
    endpoints: Endpoints,
    secret: ClusterSecret,
    node_name: String,
    primary_wait: Duration,
    /// Trust anchors and server name for TLS, when the primary serves TLS.
    tls: Option<tonic::transport::ClientTlsConfig>,
    /// How to wait for forwarded writes to reach this node (none: return at once).
    read_your_writes: Option<ReadYourWrites>,
    /// Whether plaintext to a host beyond loopback is deliberate (no warning then).
    plaintext: bool,
    /// The backend, which turns the primary's database errors into local ones.
    backend: Option<Arc<dyn crate::backend::Backend>>,
}

impl ForwardConfig {
    /// Forward to the primary `tracker` reports, at the address `endpoints` gives, with
    /// `secret`; `node_name` identifies this node in the primary's logs.
    pub fn new(
        tracker: PrimaryTracker,
        endpoints: Endpoints,
        secret: ClusterSecret,
        node_name: impl Into<String>,
    ) -> Self {
        Self {
            tracker,
            endpoints,
            secret,
            node_name: node_name.into(),
            primary_wait: Duration::from_secs(5),
            tls: None,
            read_your_writes: None,
            plaintext: false,
            backend: None,
        }
    }

    /// The replication backend: a database error from the primary is turned into the
    /// error the same failure would be here ([`Backend::restore_error`](
    /// crate::backend::Backend::restore_error)) before the caller sees it.
    pub fn backend(mut self, backend: Arc<dyn crate::backend::Backend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// Forwards over plaintext HTTP/2 on purpose: the cluster secret and every write's SQL
    /// and values then travel unencrypted, so do this only on a private network. Without
    /// this or [`ForwardConfig::tls`], connecting to a primary beyond loopback logs a
    /// warning.
    pub fn plaintext(mut self) -> Self {
        self.plaintext = true;
        self
    }

    /// Connects over TLS, trusting the PEM certificate authority `ca_pem`; `domain`
    /// overrides the name checked against the server's certificate (default: the
    /// endpoint's host). Endpoints must then be `https://` URLs.
    pub fn tls(mut self, ca_pem: impl AsRef<[u8]>, domain: Option<String>) -> Self {
        let mut tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(ca_pem));
        if let Some(domain) = domain {
            tls = tls.domain_name(domain);
        }
        self.tls = Some(tls);
        self
    }

    /// After a forwarded write, waits until this node's database has it, for calls that
    /// ask for [`repo_core::Consistency::ReadYourWrites`] (the default); calls asking for
    /// `Eventual` return at once. Without this, forwarded writes return as soon as the
    /// primary committed.
    pub fn read_your_writes(mut self, wait: ReadYourWrites) -> Self {
        self.read_your_writes = Some(wait);
        self
    }

    /// How long a write waits for a primary to be known (default 5 s).
    pub fn primary_wait(mut self, wait: Duration) -> Self {
        self.primary_wait = wait;
        self
    }
}

#[derive(Debug)]
struct Shared {
    config: ForwardConfig,
    channel: PrimaryChannel,
}

/// Forwards writes to the primary when this node is a replica (see the module docs).
#[derive(Debug, Clone)]
pub struct ForwardLayer {
    shared: Arc<Shared>,
}

impl ForwardLayer {
    /// A forwarding layer with `config`. Clones share the channel.
    pub fn new(config: ForwardConfig) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                channel: PrimaryChannel::default(),
            }),
        }
    }

    /// Asks the primary what became of the write `id` (see
    /// [`WriteOutcome`](crate::ledger::WriteOutcome)); with `settle`, an id it does not
    /// know is settled as not committed. Waits for a primary like a write does.
    ///
    /// # Errors
    ///
    /// As a forwarded write fails: the primary unknown or unreachable, a refusal.
    pub async fn lookup_on_primary(
        &self,
        id: repo_core::RequestId,
        settle: bool,
        timeout: Duration,
    ) -> Result<crate::ledger::WriteOutcome, RepoError> {
        let deadline = Instant::now() + timeout;
        let state = wait_for_primary(&self.shared, Some(deadline)).await?;
        let primary = state.primary.ok_or(RepoError::PrimaryUnavailable {
            waited: Duration::ZERO,
        })?;
        lookup(&self.shared, &primary, id, settle, deadline).await
    }
}

/// Asks `primary` what became of the write `id`, by `deadline`.
async fn lookup(
    shared: &Shared,
    primary: &str,
    id: repo_core::RequestId,
    settle: bool,
    deadline: Instant,
) -> Result<crate::ledger::WriteOutcome, RepoError> {
    let config = &shared.config;
    let url = config.endpoints.resolve(primary)?;
    let channel = shared
        .channel
        .get(&url, primary, config.tls.as_ref(), config.plaintext)?;
    let mut grpc = tonic::Request::new(pb::LookupRequest {
        request_id: id.0.as_bytes().to_vec(),
        settle,
    });
    grpc.set_timeout(deadline.saturating_duration_since(Instant::now()));
    grpc.metadata_mut().insert(AUTHORIZATION, bearer(config)?);
    let mut client = pb::forwarder_client::ForwarderClient::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024);
    match client.lookup(grpc).await {
        Ok(response) => {
            crate::convert::decode_lookup(response.into_inner()).map_err(RepoError::from)
        }
        Err(status) => Err(error_from_status(&status, primary).await),
    }
}

/// How long a write whose answer was lost asks the primary what became of it.
const RESOLVE_WAIT: Duration = Duration::from_secs(2);

/// A forwarded write's connection failed after it was sent (`CommitState::Unknown`): asks
/// the primary's ledger once. When it committed, its recorded answer is this call's answer
/// (nothing is sent again); otherwise the error stands, and a retry with the same request
/// id stays safe (the ledger answers it). The lookup does not settle: an attempt still in
/// flight may yet commit, and the retry must then be answered, not refused.
async fn resolve_lost_answer(
    shared: &Shared,
    primary: &str,
    request: &Request,
    error: RepoError,
) -> Result<Response, RepoError> {
    if !matches!(
        error,
        RepoError::Unreachable {
            commit: repo_core::CommitState::Unknown,
            ..
        }
    ) {
        return Err(error);
    }
    let until = Instant::now() + RESOLVE_WAIT;
    let until = request.deadline.map_or(until, |d| d.min(until));
    match lookup(shared, primary, request.id, false, until).await {
        Ok(crate::ledger::WriteOutcome::Committed(response)) => {
            metrics::counter!("litefs_forward_answers_recovered_total").increment(1);
            tracing::info!(request_id = %request.id, "a lost answer was recovered from the primary's ledger");
            Ok(response)
        }
        _ => Err(error),
    }
}

/// The `authorization` header value carrying the cluster secret.
fn bearer(
    config: &ForwardConfig,
) -> Result<tonic::metadata::MetadataValue<tonic::metadata::Ascii>, RepoError> {
    config
        .secret
        .bearer()
        .parse()
        .map_err(|_| RepoError::Rejected {
            reason: repo_core::RejectReason::misconfigured(
                "the cluster secret cannot be sent in a header (ClusterSecret)",
            ),
        })
}

impl<S> Layer<S> for ForwardLayer {
    type Service = Forward<S>;

    fn layer(&self, inner: S) -> Forward<S> {
        Forward {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// The service of [`ForwardLayer`].
#[derive(Debug, Clone)]
pub struct Forward<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Forward<S> {
    /// The inner service (the executor, on the primary).
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S> Service<Request> for Forward<S>
where
    S: Service<Request, Response = Response, Error = RepoError> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = RepoError;
    type Future = BoxFuture<'static, Result<Response, RepoError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let state = self.shared.config.tracker.current();
        // An attempt of a write that was already forwarded may have committed on the old
        // primary; it must go through a ledger again (this node's own server), never
        // straight to the executor.
        if state.is_primary() && !request.facts.forwarded() {
            request.facts.set_role(NodeRole::Primary);
            return Box::pin(self.inner.call(request));
        }
        let shared = self.shared.clone();
        let inner = self.inner.clone();
        Box::pin(async move {
            let mut state = state;
            if state.primary.is_none() || (state.is_primary() && !request.facts.forwarded()) {
                state = wait_for_primary(&shared, request.deadline).await?;
            }
            if state.is_primary() && !request.facts.forwarded() {
                request.facts.set_role(NodeRole::Primary);
                return inner.oneshot(request).await;
            }
            let primary = state.primary.ok_or(RepoError::PrimaryUnavailable {
                waited: Duration::ZERO,
            })?;
            request.facts.set_role(NodeRole::Replica);
            send(&shared, &primary, request).await
        })
    }
}

async fn wait_for_primary(
    shared: &Shared,
    deadline: Option<Instant>,
) -> Result<crate::tracker::PrimaryState, RepoError> {
    let mut wait = shared.config.primary_wait;
    if let Some(deadline) = deadline {
        wait = wait.min(deadline.saturating_duration_since(Instant::now()));
    }
    shared
        .config
        .tracker
        .wait_for_primary(wait)
        .await
        .map_err(|_| RepoError::PrimaryUnavailable { waited: wait })
}

async fn send(shared: &Shared, primary: &str, request: Request) -> Result<Response, RepoError> {
    let config = &shared.config;
    let url = config.endpoints.resolve(primary)?;
    let channel = shared
        .channel
        .get(&url, primary, config.tls.as_ref(), config.plaintext)?;
    let message = encode_request(&request, &config.node_name).map_err(RepoError::from)?;
    let mut grpc = tonic::Request::new(message);
    if let Some(deadline) = request.deadline {
        grpc.set_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    grpc.metadata_mut().insert(AUTHORIZATION, bearer(config)?);
    crate::correlation::attach(grpc.metadata_mut(), request.correlation.as_ref());
    let mut client = pb::forwarder_client::ForwarderClient::new(channel)
        .max_decoding_message_size(64 * 1024 * 1024);
    request.facts.mark_forwarded();
    let response = match client.execute(grpc).await {
        Ok(response) => {
            let message = response.into_inner();
            let outcome = message
                .outcome
                .ok_or_else(|| RepoError::Codec("a response without an outcome".into()))?;
            let mut response = Response::new(decode_outcome(outcome).map_err(RepoError::from)?);
            response.txid = message.txid;
            response
        }
        Err(status) => {
            let error = error_from_status(&status, primary).await;
            match resolve_lost_answer(shared, primary, &request, error).await {
                Ok(response) => response,
                Err(error) => {
                    return Err(match &config.backend {
                        Some(backend) => backend.restore_error(error).await,
                        None => error,
                    });
                }
            }
        }
    };
    if let Some(wait) = &config.read_your_writes
        && request.consistency == repo_core::Consistency::ReadYourWrites
    {
        // A TXID only compares within one primary's lineage: after a failover the numbers
        // start over, so it is trusted only while that primary still is.
        let same_primary = config.tracker.current().primary.as_deref() == Some(primary);
        let txid = response.txid.filter(|_| same_primary);
        wait.wait_for(request.id.0, txid, request.deadline).await?;
    }
    Ok(response)
}
