//! `WriteCall`: a write that can take options and layers before it is awaited.

use std::future::IntoFuture;
use std::time::Duration;

use futures::future::BoxFuture;

use crate::error::RepoError;
use crate::idempotency_key::IdempotencyKey;
use crate::options::CallOptions;
use crate::repo::Repo;
use crate::request::{Consistency, Request};
use crate::response::Response;
use crate::stack::{BoxedLayer, RepoService};

/// A write operation that a [`WriteCall`] runs once it is awaited.
pub trait WriteOp: Send + 'static {
    /// What the write returns.
    type Output: Send + 'static;

    /// Runs the write with the call's repository and options.
    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>>;
}

/// The repository and options a write runs with.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// The repository the call was made on.
    pub repo: Repo,
    /// The call's options.
    pub options: CallOptions,
}

/// A write that has not run yet: add options, then `.await` it.
///
/// ```text
/// let post = repo.insert(post).timeout(Duration::from_secs(2)).layer(AuditLayer).await?;
/// ```
#[must_use = "a write does nothing until it is awaited"]
#[derive(Debug)]
pub struct WriteCall<Op> {
    repo: Repo,
    op: Op,
    options: CallOptions,
}

impl<Op> WriteCall<Op> {
    pub(crate) fn new(repo: &Repo, op: Op) -> Self {
        Self {
            repo: repo.clone(),
            op,
            options: CallOptions::default(),
        }
    }

    /// Fails the call with [`RepoError::Timeout`] if it takes longer than `timeout`; the
    /// deadline travels with the request so later layers can propagate it.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// The consistency this call needs (default: read your writes).
    pub fn consistency(mut self, consistency: Consistency) -> Self {
        self.options.consistency = consistency;
        self
    }

    /// When the primary may answer this write (default: the node's default, itself
    /// [`Durability::Primary`](crate::Durability::Primary) unless configured otherwise).
    /// With [`Durability::Candidates`](crate::Durability::Candidates) the write is answered
    /// once every lease candidate holds it, or fails with
    /// [`RepoError::NotReplicated`] (committed, not yet replicated) when the deadline comes
    /// first.
    pub fn durability(mut self, durability: crate::Durability) -> Self {
        self.options.durability = Some(durability);
        self
    }

    /// Makes this write idempotent under the caller's `key`: sent again with the same key
    /// (a client's retry, through this node or another), it is answered with the first
    /// answer and writes nothing; sent with the same key but another payload, it is refused
    /// with [`RepoError::IdempotencyConflict`]. Needs a ledger on the node that runs it
    /// (`repo_litefs::Node` has one); without one the write is refused as misconfigured.
    pub fn idempotency_key(mut self, key: IdempotencyKey) -> Self {
        self.options.idempotency_key = Some(key);
        self
    }

    /// Wraps the repository's stack in `layer` for this call only. Call layers sit
    /// outside the repository's default stack; the first one added is the outermost.
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: tower::Layer<RepoService> + Send + Sync + 'static,
        L::Service: tower::Service<Request, Response = Response, Error = RepoError>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<Request>>::Future: Send + 'static,
    {
        self.options.layers.push(BoxedLayer::new(layer));
        self
    }

    /// The operation, to change its own options.
    pub(crate) fn map_op<Next>(self, f: impl FnOnce(Op) -> Next) -> WriteCall<Next> {
        WriteCall {
            repo: self.repo,
            op: f(self.op),
            options: self.options,
        }
    }
}

impl<Op: WriteOp> IntoFuture for WriteCall<Op> {
    type Output = Result<Op::Output, RepoError>;
    type IntoFuture = BoxFuture<'static, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        self.op.run(CallContext {
            repo: self.repo,
            options: self.options,
        })
    }
}
