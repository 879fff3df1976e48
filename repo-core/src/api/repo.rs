//! `Repo` and its builder.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::error::{CommitState, RepoError};
use crate::executor::Executor;
use crate::ledger::Ledger;
use crate::options::CallOptions;
use crate::request::Request;
use crate::response::Response;
use crate::row::RowShape;
use crate::session::{SessionOpener, TransactionLimits};
use crate::shape::{shape_of, table_of};
use crate::stack::{BoxedLayer, RepoService, wrap_all};
use crate::transaction::{NamedTransaction, TransactionRegistry};
use crate::writer::WriterConfig;

/// An Ecto-like repository over a sea-orm connection.
///
/// Reads run on the local database. Writes become [`Request`]s that pass through the
/// repository's middleware stack and end in the [`Executor`], unless a layer answers first
/// (the forwarding layer on a replica sends them to the primary instead). `Repo` is cheap
/// to clone: clones share the connection and the stack.
///
/// ```no_run
/// # async fn demo(db: sea_orm::DatabaseConnection) -> Result<(), repo_core::RepoError> {
/// use repo_core::Repo;
/// let repo = Repo::builder(db).build();
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Repo {
    inner: Arc<RepoInner>,
}

#[derive(Debug)]
struct RepoInner {
    /// The local database: reads run here, and the executor writes here.
    db: DatabaseConnection,
    /// The default stack with the executor at its end, built once and cloned per call.
    stack: RepoService,
    /// Named transactions, shared with the executor.
    transactions: Arc<TransactionRegistry>,
    /// Row shapes of registered entities by table, for writes through `ConnectionTrait`.
    shapes: HashMap<String, Arc<RowShape>>,
    /// Timeout of calls that set none.
    default_timeout: Option<Duration>,
    /// Whether sea-orm code using `&repo` may use `RETURNING` (see `sea_orm_returning`).
    sea_orm_returning: bool,
    /// The executor at the end of the stack, shared with a forwarding server.
    executor: Executor,
    /// Where interactive transactions are held (`None`: on this node's writer).
    sessions: Option<Arc<dyn SessionOpener>>,
    /// The bounds of interactive transactions that set none.
    transaction_limits: TransactionLimits,
}

/// Builds a [`Repo`]: its default layers, named transactions and entities.
#[must_use]
pub struct RepoBuilder {
    db: DatabaseConnection,
    layers: Vec<BoxedLayer>,
    transactions: TransactionRegistry,
    shapes: HashMap<String, Arc<RowShape>>,
    default_timeout: Option<Duration>,
    sea_orm_returning: bool,
    writer: WriterConfig,
    ledger: Option<Arc<dyn Ledger>>,
    sessions: Option<Arc<dyn SessionOpener>>,
    transaction_limits: TransactionLimits,
}

impl RepoBuilder {
    /// Where interactive transactions (`repo.begin()`, `repo.transaction(..)`) are held;
    /// `repo_litefs::Node` sets its own (on the primary, over a stream from a replica).
    /// Default: on this repository's writer.
    pub fn sessions(mut self, opener: Arc<dyn SessionOpener>) -> Self {
        self.sessions = Some(opener);
        self
    }

    /// The bounds of interactive transactions that set none (default:
    /// [`TransactionLimits::default`]: 5 s in all, 1 s idle).
    pub fn transaction_limits(mut self, limits: TransactionLimits) -> Self {
        self.transaction_limits = limits;
        self
    }

    /// Adds a layer to the default stack. The first layer added is the outermost.
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
        self.layers.push(BoxedLayer::new(layer));
        self
    }

    /// Adds an already boxed layer to the default stack.
    pub fn boxed_layer(mut self, layer: BoxedLayer) -> Self {
        self.layers.push(layer);
        self
    }

    /// Registers a named transaction. Register the same ones on every node.
    pub fn transaction<T: NamedTransaction>(mut self) -> Self {
        self.transactions.register::<T>();
        self
    }

    /// Registers an entity so that rows returned by writes on its table through the
    /// `ConnectionTrait` path (`am.insert(&repo)`) decode with its exact column types.
    /// The typed API does not need this.
    pub fn entity<E: EntityTrait>(mut self) -> Self {
        self.shapes.insert(table_of::<E>(), shape_of::<E>());
        self
    }

    /// Lets sea-orm code that uses `&repo` as its connection write with `RETURNING` (one
    /// statement per `insert`/`update` instead of a write and a local read). Off by
    /// default, because a row returned by a write can only be decoded into a model whose
    /// entity is registered with [`RepoBuilder::entity`]: turn it on when every entity
    /// written through `&repo` is. The typed API always uses `RETURNING`. On PostgreSQL it
    /// is always on (there is no last insert id to read the row by), so register the
    /// entities written through `&repo` there.
    pub fn sea_orm_returning(mut self, enabled: bool) -> Self {
        self.sea_orm_returning = enabled;
        self
    }

    /// The timeout of calls that set none (default: none).
    pub fn default_timeout(mut self, timeout: Duration) -> Self {
        self.default_timeout = Some(timeout);
        self
    }

    /// How writes run on this node: the maximum statement time and SQLite's limits on the
    /// writer connection (default: [`WriterConfig::default`]).
    pub fn writer(mut self, config: WriterConfig) -> Self {
        self.writer = config;
        self
    }

    /// The ledger that records this node's writes carrying an idempotency key (see
    /// [`crate::IdempotencyKey`]); `repo_litefs::Node` sets its own. Without one, such
    /// writes are refused.
    pub fn ledger(mut self, ledger: Arc<dyn Ledger>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Builds the repository.
    pub fn build(self) -> Repo {
        let transactions = Arc::new(self.transactions);
        let mut executor =
            Executor::with_config(self.db.clone(), transactions.clone(), self.writer);
        if let Some(ledger) = self.ledger {
            executor = executor.with_ledger(ledger);
        }
        let stack = wrap_all(RepoService::new(executor.clone()), &self.layers);
        Repo {
            inner: Arc::new(RepoInner {
                db: self.db,
                stack,
                transactions,
                shapes: self.shapes,
                default_timeout: self.default_timeout,
                sea_orm_returning: self.sea_orm_returning,
                executor,
                sessions: self.sessions,
                transaction_limits: self.transaction_limits,
            }),
        }
    }
}

impl Repo {
    /// A repository over `db` with an empty stack (writes go straight to the executor).
    pub fn new(db: DatabaseConnection) -> Self {
        Self::builder(db).build()
    }

    /// Starts building a repository over `db`.
    pub fn builder(db: DatabaseConnection) -> RepoBuilder {
        RepoBuilder {
            db,
            layers: Vec::new(),
            transactions: TransactionRegistry::default(),
            shapes: HashMap::new(),
            default_timeout: None,
            sea_orm_returning: false,
            writer: WriterConfig::default(),
            ledger: None,
            sessions: None,
            transaction_limits: TransactionLimits::default(),
        }
    }

    /// The local database connection (reads use it directly).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// The named transactions registered on this repository.
    pub fn transactions(&self) -> &TransactionRegistry {
        &self.inner.transactions
    }

    /// The executor of this repository (its database, transactions and writer), e.g. to
    /// serve requests forwarded from other nodes: local and forwarded writes then share one
    /// writer, one turn at a time.
    pub fn executor(&self) -> Executor {
        self.inner.executor.clone()
    }

    /// Where interactive transactions are held, when a transport set it.
    pub(crate) fn session_opener(&self) -> Option<&Arc<dyn SessionOpener>> {
        self.inner.sessions.as_ref()
    }

    /// The default bounds of interactive transactions.
    pub fn transaction_limits(&self) -> TransactionLimits {
        self.inner.transaction_limits
    }

    /// Whether sea-orm code through `&repo` writes with `RETURNING`.
    pub(crate) fn sea_orm_returning(&self) -> bool {
        // PostgreSQL has no last insert id: `RETURNING` is sea-orm's only way to the row.
        let required = self.inner.db.get_database_backend() == sea_orm::DbBackend::Postgres;
        (self.inner.sea_orm_returning || required) && self.inner.db.support_returning()
    }

    pub(crate) fn shape_for_table(&self, table: &str) -> Option<Arc<RowShape>> {
        self.inner.shapes.get(table).cloned()
    }

    /// Sends `request` through the default stack, wrapped in the call's extra layers.
    ///
    /// The call's timeout (or the default one) becomes the request's deadline, and the
    /// call stops waiting when it passes. The pending write is then dropped; if it had
    /// already reached the database (or left the node) it may still commit, and the error
    /// says so ([`CommitState::Unknown`]).
    pub async fn call(
        &self,
        mut request: Request,
        options: &CallOptions,
    ) -> Result<Response, RepoError> {
        if let Some(timeout) = options.timeout.or(self.inner.default_timeout) {
            let deadline = Instant::now() + timeout;
            request.deadline = Some(request.deadline.map_or(deadline, |d| d.min(deadline)));
        }
        request.consistency = options.consistency;
        if options.durability.is_some() {
            request.durability = options.durability;
        }
        if let Some(key) = &options.idempotency_key
            && !request.keyed
        {
            request.id = key.request_id(0);
            request.keyed = true;
        }
        let service = wrap_all(self.inner.stack.clone(), &options.layers);
        let deadline = request.deadline;
        let response = service.oneshot(request);
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, response)
                .await
                .unwrap_or(Err(RepoError::Timeout {
                    commit: CommitState::Unknown,
                })),
            None => response.await,
        }
    }
}
