//! `Node`: one node of a cluster, assembled — the tracker, the repository with the standard
//! stack, forwarding and read-your-writes, the forwarding server and the ledger pruner.
//!
//! ```no_run
//! use repo_litefs::node::{Node, NodeConfig};
//! use repo_litefs::{ClusterSecret, Endpoints};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = NodeConfig::new(
//!     "node-1",
//!     "/litefs/app.db",
//!     Endpoints::template("http://{hostname}:50051"),
//!     ClusterSecret::new(std::env::var("CLUSTER_SECRET")?)?,
//! )
//! .litefs_api("http://127.0.0.1:20202")
//! .mount_dir("/litefs");
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:50051").await?;
//! let node = Node::start(config, listener).await?;
//! let repo = node.repo(); // reads local, writes forwarded when this node is a replica
//! # let _ = repo; node.shutdown().await; Ok(()) }
//! ```
//!
//! A node follows role changes without a restart: every node opens its database
//! read-write (LiteFS refuses writes on a replica by itself), the forwarding layer asks the
//! tracker on every write whether to execute or forward, the server refuses forwarded
//! writes while not primary, and the pruner prunes only while primary. Promoted, a node
//! writes; demoted, it forwards.

mod config;
mod database;
mod health;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use repo_core::Repo;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use config::NodeConfig;
pub use health::{LastError, NodeHealth};

use crate::backend::{Backend, LiteFs};
use crate::durability::{DurabilityConfig, DurabilityGate, DurabilityLayer, PositionReporter};
use crate::forward::{ForwardConfig, ForwardLayer, ReadYourWrites};
use crate::ledger::{LedgerHook, Pruner, WriteOutcome};
use crate::server::{ForwardServer, ServeError, ServerConfig};
use crate::tracker::{PrimaryTracker, TrackerConfig};
use health::{HealthSource, LastErrorLayer};

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// No primary was known in time.
    #[error(
        "no primary known after {waited:?} from {asked}: is LiteFS running there, and does \
         a node hold the lease?"
    )]
    NoPrimary {
        /// Where the node asked (LiteFS's API URL, its mount directory, or a given tracker).
        asked: String,
        /// How long it waited.
        waited: Duration,
    },
    /// The schema did not reach this replica in time.
    #[error(
        "the schema has not replicated to {} after {waited:?}: is the primary up and \
         replicating?", path.display()
    )]
    NoSchema {
        /// The database file waited for.
        path: PathBuf,
        /// How long.
        waited: Duration,
    },
    /// The database failed (opening it, or a migration).
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The gRPC listener's address could not be read.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

/// A running node. Dropping it stops its server and pruner; [`Node::shutdown`] also waits
/// for the writes in flight.
#[derive(Debug)]
pub struct Node {
    /// The repository the application uses.
    repo: Repo,
    /// The node's own database connection (reads; the writer is the executor's).
    db: DatabaseConnection,
    /// The role and the primary.
    tracker: PrimaryTracker,
    /// Where the forwarding server listens.
    grpc_addr: SocketAddr,
    /// What [`Node::health`] reads.
    health: HealthSource,
    /// Stops the forwarding server.
    stop: Option<oneshot::Sender<()>>,
    /// The forwarding server.
    server: Option<tokio::task::JoinHandle<Result<(), ServeError>>>,
    /// The ledger pruner.
    pruner: tokio::task::JoinHandle<()>,
    /// The repository's forwarding layer, for outcome lookups on the primary.
    forward: ForwardLayer,
    /// How long an outcome lookup waits for a primary.
    primary_wait: std::time::Duration,
    /// Reports this node's position to the primary (with durability settings).
    reporter: Option<tokio::task::JoinHandle<()>>,
}

impl Node {
    /// Starts a node as `config` says, its forwarding server on `grpc` (bound beforehand,
    /// so that other nodes' endpoints can name its address): waits for a primary to be
    /// known, opens the database (the primary migrates, a replica waits for the schema),
    /// builds the repository and serves.
    pub async fn start(config: NodeConfig, grpc: TcpListener) -> Result<Self, NodeError> {
        let backend = backend_of(&config);
        let tracker = match &config.tracker {
            Some(tracker) => tracker.clone(),
            None => backend.follow(),
        };
        let state = tracker
            .wait_for_primary(config.startup_wait)
            .await
            .map_err(|_| NodeError::NoPrimary {
                asked: config.litefs_source(),
                waited: config.startup_wait,
            })?;
        let db = if state.is_primary() {
            database::open_as_primary(&config).await?
        } else {
            database::open_as_replica(&config, config.startup_wait).await?
        };
        let durability = durability_of(&config, &backend, &tracker);
        let gate = durability
            .clone()
            .map(|d| std::sync::Arc::new(DurabilityGate::new(config.name.clone(), d)));
        let (repo, health, forward) = build_repo(&config, &db, &tracker, &backend, gate.clone());
        let grpc_addr = grpc.local_addr()?;
        let mut server_config = ServerConfig::new(config.secret.clone(), config.name.clone())
            .ledger_retention(Some(config.prune.retention()))
            .dialect(backend.dialect())
            .backend(backend.clone());
        if let Some(pos) = backend.position() {
            server_config = server_config.position(pos);
        }
        if let Some(gate) = &gate {
            server_config = server_config.durability(gate.clone());
        }
        let server = ForwardServer::new(
            repo.executor(),
            tracker.clone(),
            (config.server)(server_config),
        );
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(server.serve(grpc, async move {
            let _ = stopped.await;
        }));
        let pruner = Pruner::new(db.clone(), config.prune).spawn(tracker.clone());
        let reporter = durability.and_then(|d| d.source).map(|source| {
            PositionReporter {
                node: config.name.clone(),
                tracker: tracker.clone(),
                source,
                endpoints: config.endpoints.clone(),
                secret: config.secret.clone(),
            }
            .spawn()
        });
        tracing::info!(
            node = %config.name,
            backend = backend.name(),
            %grpc_addr,
            role = ?state.role,
            "node started"
        );
        Ok(Self {
            repo,
            db,
            tracker,
            grpc_addr,
            health,
            stop: Some(stop),
            server: Some(server),
            pruner,
            forward,
            primary_wait: config.primary_wait,
            reporter,
        })
    }

    /// What became of the write with request id `id`, as the primary's ledger knows it:
    /// committed (with its answer), or unknown. With `settle`, an unknown write is settled:
    /// the primary records it as abandoned, no attempt of it can commit afterwards (one
    /// that arrives is refused with [`RejectReason::Abandoned`](repo_core::RejectReason)),
    /// and the answer is a final [`WriteOutcome::NotCommitted`]. For a caller whose write
    /// ended with [`CommitState::Unknown`](repo_core::CommitState) that would rather know
    /// than retry. Waits for a primary as long as a write would (`primary_wait`).
    ///
    /// # Errors
    ///
    /// As a forwarded write fails: no primary known in time, the primary unreachable.
    pub async fn outcome(
        &self,
        id: repo_core::RequestId,
        settle: bool,
    ) -> Result<WriteOutcome, repo_core::RepoError> {
        if self.tracker.current().is_primary() {
            return crate::ledger::resolve(&self.repo.executor(), &self.tracker, id, settle).await;
        }
        self.forward
            .lookup_on_primary(id, settle, self.primary_wait)
            .await
    }

    /// The repository: reads run locally, writes are executed here when this node is the
    /// primary and forwarded otherwise.
    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// The node's own database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The node's view of the role and the primary.
    pub fn tracker(&self) -> &PrimaryTracker {
        &self.tracker
    }

    /// Where the forwarding server listens.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.health.node
    }

    /// A snapshot of the node's health: role, primary, lag, circuit, last error.
    pub fn health(&self) -> NodeHealth {
        self.health.snapshot()
    }

    /// A function that takes [`Node::health`] snapshots, for a health endpoint that outlives
    /// borrows of the node.
    pub fn health_source(&self) -> impl Fn() -> NodeHealth + Send + Sync + 'static {
        let source = self.health.clone();
        move || source.snapshot()
    }

    /// Stops the forwarding server after the writes in flight, stops the pruner, and
    /// closes the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.pruner.abort();
        if let Some(reporter) = &self.reporter {
            reporter.abort();
        }
        let _ = self.db.clone().close().await;
    }

    /// Tells the forwarding server to stop (it finishes the writes in flight) without
    /// waiting for it.
    pub fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Kills the forwarding server at once: connections drop, in-flight calls fail (for
    /// fault tests).
    pub fn kill_server(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.pruner.abort();
        if let Some(reporter) = &self.reporter {
            reporter.abort();
        }
    }
}

/// The node's durability settings, their position source defaulting to the backend's
/// (following the node's role, so that a new tenure starts at each change).
fn durability_of(
    config: &NodeConfig,
    backend: &Arc<dyn Backend>,
    tracker: &PrimaryTracker,
) -> Option<DurabilityConfig> {
    let mut durability = config.durability.clone()?;
    if durability.source.is_none() {
        durability.source = backend.durability_source(tracker);
    }
    Some(durability)
}

/// The node's backend: the one configured, or LiteFS as the node's settings say.
fn backend_of(config: &NodeConfig) -> Arc<dyn Backend> {
    if let Some(backend) = &config.backend {
        return backend.clone();
    }
    let position = config.position_file();
    match &config.tracker {
        Some(tracker) => Arc::new(LiteFs::with_tracker(tracker.clone(), position)),
        None => Arc::new(LiteFs::new(tracker_config(config), position)),
    }
}

/// The tracker's settings from the node's LiteFS settings.
fn tracker_config(config: &NodeConfig) -> TrackerConfig {
    let mut tracker = TrackerConfig::new().self_hostname(config.name.clone());
    if let Some(api) = &config.litefs_api {
        tracker = tracker.api_url(api.clone());
    }
    if let Some(dir) = &config.mount_dir {
        tracker = tracker.mount_dir(dir.clone());
    }
    tracker
}

/// The repository: the health layer, the application's additions, the standard stack,
/// forwarding with read-your-writes, the executor layers, the executor.
fn build_repo(
    config: &NodeConfig,
    db: &DatabaseConnection,
    tracker: &PrimaryTracker,
    backend: &Arc<dyn Backend>,
    gate: Option<std::sync::Arc<DurabilityGate>>,
) -> (Repo, HealthSource, ForwardLayer) {
    let last_error = LastErrorLayer::default();
    // Local writes with an idempotency key are recorded like forwarded ones.
    let ledger = LedgerHook::new(tracker.clone(), db.clone(), Some(config.prune.retention()));
    let mut builder = Repo::builder(db.clone())
        .writer(config.writer.clone())
        .ledger(std::sync::Arc::new(ledger))
        .layer(last_error.clone());
    if let Some(customize) = &config.customize {
        builder = customize(builder);
    }
    let mut breaker = None;
    if let Some(stack) = &config.stack {
        let (layers, circuit) = stack.layers_and_breaker();
        breaker = Some(circuit);
        for layer in layers {
            builder = builder.boxed_layer(layer);
        }
    }
    let mut forward = ForwardConfig::new(
        tracker.clone(),
        config.endpoints.clone(),
        config.secret.clone(),
        config.name.clone(),
    )
    .primary_wait(config.primary_wait)
    .backend(backend.clone());
    if let Some((wait, on_lag)) = config.consistency {
        let probe = config.ledger_probe.clone().unwrap_or_else(|| db.clone());
        let mut consistency = ReadYourWrites::new(probe)
            .wait(wait)
            .on_lag(on_lag)
            .watch_files(config.change_files(backend.dialect()));
        if let Some(pos) = backend.position() {
            consistency = consistency.position(pos);
        }
        forward = forward.read_your_writes(consistency);
    }
    let forward = ForwardLayer::new(forward);
    builder = builder
        .sessions(std::sync::Arc::new(forward.interactive_sessions()))
        .layer(forward.clone());
    if let Some(gate) = gate {
        builder = builder.layer(DurabilityLayer::new(gate));
    }
    for layer in &config.executor_layers {
        builder = builder.boxed_layer(layer.clone());
    }
    let health = HealthSource {
        node: config.name.clone(),
        tracker: tracker.clone(),
        mount_dir: config.mount_dir.clone(),
        sampled_lag: backend.replication_lag(),
        breaker,
        last_error,
    };
    (builder.build(), health, forward)
}
