//! One blog node: the repository with the standard stack and write forwarding, the
//! forwarding server, and the web application, each on its own address.
//!
//! On start the node learns its role from LiteFS (or the emulator). The primary runs the
//! migrations; a replica waits until the schema has replicated to it, then opens its file
//! read-only (a write there would fail as on LiteFS; writes are forwarded).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use repo_core::{NodeRole, Repo};
use repo_litefs::tracker::{PrimaryTracker, Role, TrackerConfig};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, ReadYourWrites,
    ServerConfig,
};
use repo_middleware::StackConfig;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tokio::net::TcpListener;

use crate::entities::{comment, post, post_tag, tag};
use crate::lag::read_lag;
use crate::transactions;
use crate::web::{self, AppState, HealthInfo, NodeInfo};

/// Everything a node needs to run.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's hostname, as LiteFS names it.
    pub name: String,
    /// The database file (in the LiteFS mount).
    pub db_path: PathBuf,
    /// The local LiteFS HTTP API, e.g. `http://127.0.0.1:20202`.
    pub litefs_api: Option<String>,
    /// The LiteFS mount directory: its `.lag` gives `/health` the replication lag, and its
    /// `.primary` names the primary when there is no API.
    pub mount_dir: Option<PathBuf>,
    /// Where the forwarding server listens.
    pub grpc_addr: SocketAddr,
    /// Where the web application listens.
    pub http_addr: SocketAddr,
    /// How other nodes' forwarding servers are reached.
    pub endpoints: Endpoints,
    /// The cluster secret.
    pub secret: ClusterSecret,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// No primary was known in time.
    #[error("no primary known after {0:?}: is LiteFS running and does a node hold the lease?")]
    NoPrimary(Duration),
    /// The schema did not reach this replica in time.
    #[error("the schema has not replicated to this node after {0:?}")]
    NoSchema(Duration),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// An address could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

/// A started node.
#[derive(Debug)]
pub struct RunningNode {
    /// The node's name.
    pub name: String,
    /// The web application's address.
    pub http_addr: SocketAddr,
    /// The forwarding server's address.
    pub grpc_addr: SocketAddr,
    /// Whether it started as the primary.
    pub primary: bool,
    /// The node's repository.
    pub repo: Repo,
    /// The node's database connection.
    pub db: DatabaseConnection,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

const STARTUP_WAIT: Duration = Duration::from_secs(30);

async fn open(config: &NodeConfig, mode: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    Database::connect(format!("sqlite://{}?mode={mode}", config.db_path.display())).await
}

/// Waits until the ledger table (the last migration's) has replicated here.
async fn wait_for_schema(config: &NodeConfig) -> Result<DatabaseConnection, NodeError> {
    let until = tokio::time::Instant::now() + STARTUP_WAIT;
    loop {
        if let Ok(db) = open(config, "ro").await {
            let probe = Statement::from_string(
                DbBackend::Sqlite,
                "SELECT 1 FROM sqlite_master WHERE name = 'litefs_ledger'",
            );
            if let Ok(Some(_)) = db.query_one_raw(probe).await {
                return Ok(db);
            }
        }
        if tokio::time::Instant::now() >= until {
            return Err(NodeError::NoSchema(STARTUP_WAIT));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts a node: learns its role, prepares its database, serves gRPC and HTTP.
pub async fn start(
    config: NodeConfig,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> Result<RunningNode, NodeError> {
    let grpc = TcpListener::bind(config.grpc_addr).await?;
    start_on(config, grpc, metrics).await
}

/// Like [`start`], with the forwarding server on `grpc`, a listener bound beforehand (so
/// that other nodes' endpoints can name its address without a race for the port);
/// `config.grpc_addr` is not used.
pub async fn start_on(
    config: NodeConfig,
    grpc: TcpListener,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> Result<RunningNode, NodeError> {
    let mut tracker_config = TrackerConfig::new().self_hostname(config.name.clone());
    if let Some(api) = &config.litefs_api {
        tracker_config = tracker_config.api_url(api.clone());
    }
    if let Some(dir) = &config.mount_dir {
        tracker_config = tracker_config.mount_dir(dir.clone());
    }
    let tracker = PrimaryTracker::spawn(tracker_config);
    let state = tracker
        .wait_for_primary(STARTUP_WAIT)
        .await
        .map_err(|_| NodeError::NoPrimary(STARTUP_WAIT))?;
    let primary = state.is_primary();
    let db = if primary {
        let db = open(&config, "rwc").await?;
        Migrator::up(&db, None).await?;
        db
    } else {
        wait_for_schema(&config).await?
    };

    // repo-middleware's standard stack, keeping a handle on its breaker for `/health`.
    let (layers, breaker) = StackConfig::default().layers_and_breaker();
    let mut builder = transactions::register(Repo::builder(db.clone()))
        .entity::<post::Entity>()
        .entity::<comment::Entity>()
        .entity::<tag::Entity>()
        .entity::<post_tag::Entity>()
        .sea_orm_returning(true);
    for layer in layers {
        builder = builder.boxed_layer(layer);
    }
    let forward = ForwardLayer::new(
        ForwardConfig::new(
            tracker.clone(),
            config.endpoints.clone(),
            config.secret.clone(),
            config.name.clone(),
        )
        .read_your_writes(ReadYourWrites::new(db.clone())),
    );
    let repo = builder.layer(forward).build();

    let grpc_addr = grpc.local_addr()?;
    let server = ForwardServer::new(
        repo.executor(),
        tracker.clone(),
        ServerConfig::new(config.secret.clone(), config.name.clone()),
    );
    let mut tasks = vec![tokio::spawn(server.serve(grpc, std::future::pending())).abort_handle()];
    if primary {
        let pruner = repo_litefs::ledger::Pruner::new(
            db.clone(),
            repo_litefs::ledger::PruneConfig::default(),
        );
        tasks.push(pruner.spawn(tracker.clone()).abort_handle());
    }

    let name = config.name.clone();
    let health_tracker = tracker.clone();
    let mount_dir = config.mount_dir.clone();
    let node = NodeInfo::new(move || {
        let state = health_tracker.current();
        HealthInfo {
            node: name.clone(),
            role: match state.role {
                Role::Primary => NodeRole::Primary,
                Role::Replica => NodeRole::Replica,
                Role::Unknown => NodeRole::Unknown,
            },
            primary: state.primary.clone(),
            circuit: Some(breaker.state()),
            replication_lag: read_lag(mount_dir.as_deref()),
        }
    });
    let mut app_state = AppState::new(repo.clone(), node);
    if let Some(handle) = metrics {
        app_state = app_state.with_metrics(handle);
    }
    let http = TcpListener::bind(config.http_addr).await?;
    let http_addr = http.local_addr()?;
    let app = web::app(app_state);
    tasks.push(
        tokio::spawn(async move {
            axum::serve(http, app).await.ok();
        })
        .abort_handle(),
    );
    Ok(RunningNode {
        name: config.name,
        http_addr,
        grpc_addr,
        primary,
        repo,
        db,
        tasks,
    })
}
