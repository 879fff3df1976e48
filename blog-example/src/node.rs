//! One blog node: a library [`Node`] (tracker, repository with the standard stack and write
//! forwarding, forwarding server, ledger pruner) with the blog's migrations, transactions
//! and entities, plus the web application, each on its own address.
//!
//! The node follows role changes without a restart (see [`repo_litefs::node`]): promoted,
//! it writes; demoted, it forwards. Its database is a SQLite file in a LiteFS mount, or,
//! with [`NodeConfig::postgres`], its own PostgreSQL server (see [`crate::postgres`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use migrations::Migrator;
use repo_core::{Repo, WriterConfig};
use repo_litefs::node::{Node, NodeConfig as LibraryNodeConfig, NodeError as LibraryNodeError};
use repo_litefs::{ClusterSecret, Endpoints};
use repo_postgres::RoleConfig;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::entities::{comment, post, post_tag, tag};
use crate::observability::write_counts::WriteCountsLayer;
use crate::postgres::{PostgresDatabase, STATEMENT_TIMEOUT};
use crate::transactions;
use crate::web::{self, AppState, ChangeFeed, HealthInfo, NodeInfo};

/// Everything a node needs to run.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// This node's hostname, as LiteFS names it.
    pub name: String,
    /// The node's PostgreSQL server, when it runs on PostgreSQL instead of LiteFS: then
    /// `db_path`, `litefs_api`, `mount_dir` and `txid_wait` are not used.
    pub postgres: Option<PostgresDatabase>,
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
    /// Whether read-your-writes may end by LiteFS's TXID (`<db>-pos`): true on LiteFS, false
    /// on the emulator, whose TXID is not LiteFS's.
    pub txid_wait: bool,
    /// SQLite's `synchronous` on the node's database file (`None`: SQLite's default,
    /// `FULL`); the local cluster chooses `OFF` for its temporary files (see
    /// [`crate::local_durability`]).
    pub sqlite_synchronous: Option<sea_orm::sqlx::sqlite::SqliteSynchronous>,
    /// Whether the process stops when its standard input closes: set on the nodes the local
    /// cluster starts as child processes, so that they never outlive it.
    pub stop_on_stdin_close: bool,
    /// Whether the node's writer tells the LiteFS emulator what each commit writes (in a
    /// file of `mount_dir`, [`repo_litefs::emulator::commit_reporter`]), so that it reads
    /// only those pages of the primary: set on the local cluster's nodes.
    pub report_commits: bool,
}

impl NodeConfig {
    /// The library node's settings on the node's backend (connecting to PostgreSQL first,
    /// when it runs there), with the blog's schema, transactions and entities.
    async fn library(&self) -> Result<LibraryNodeConfig, NodeError> {
        let config = match &self.postgres {
            Some(postgres) => {
                let db = repo_postgres::connect(&postgres.url, STATEMENT_TIMEOUT)
                    .await
                    .map_err(NodeError::Postgres)?;
                repo_postgres::node_config(
                    db,
                    self.endpoints.clone(),
                    self.secret.clone(),
                    RoleConfig::new(self.name.clone(), postgres.primary.clone()),
                )
            }
            None => self.litefs(),
        };
        Ok(config.migrator::<Migrator>().repo(|builder| {
            transactions::register(builder.layer(WriteCountsLayer))
                .entity::<post::Entity>()
                .entity::<comment::Entity>()
                .entity::<tag::Entity>()
                .entity::<post_tag::Entity>()
                .sea_orm_returning(true)
        }))
    }

    /// The library node's LiteFS settings.
    fn litefs(&self) -> LibraryNodeConfig {
        let mut config = LibraryNodeConfig::new(
            self.name.clone(),
            self.db_path.clone(),
            self.endpoints.clone(),
            self.secret.clone(),
        );
        if let Some(api) = &self.litefs_api {
            config = config.litefs_api(api.clone());
        }
        if let Some(dir) = &self.mount_dir {
            config = config.mount_dir(dir.clone());
        }
        if let Some(synchronous) = self.sqlite_synchronous {
            config = config.synchronous(synchronous);
        }
        if let (true, Some(dir)) = (self.report_commits, &self.mount_dir) {
            match repo_litefs::emulator::commit_reporter(&self.db_path, dir) {
                Ok(guard) => config = config.writer(WriterConfig::default().commit_guard(guard)),
                Err(e) => tracing::warn!(
                    error = %e,
                    "cannot report commits to the LiteFS emulator: it compares whole files"
                ),
            }
        }
        config.txid_wait(self.txid_wait)
    }
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The library node could not start.
    #[error(transparent)]
    Node(#[from] LibraryNodeError),
    /// The node's PostgreSQL server could not be reached.
    #[error("cannot connect to PostgreSQL: {0}")]
    Postgres(#[source] sea_orm::DbErr),
    /// The change feed's connection could not be opened.
    #[error("cannot open the database for the change feed: {0}")]
    Feed(#[source] sea_orm::DbErr),
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
    /// The library node: tracker, server, pruner, health.
    pub node: Node,
    /// The web application.
    web: tokio::task::AbortHandle,
}

impl Drop for RunningNode {
    fn drop(&mut self) {
        self.web.abort();
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
    let node = Node::start(config.library().await?, grpc).await?;
    let primary = node.tracker().is_primary();
    let health = node.health_source();
    let info = NodeInfo::new(move || {
        let health = health();
        HealthInfo {
            node: health.node,
            role: health.role,
            primary: health.primary,
            circuit: health.circuit,
            replication_lag: health.replication_lag,
        }
    });
    let feed = match config.postgres {
        // The feed watches the server's WAL position, which any connection reads.
        Some(_) => ChangeFeed::spawn(node.db().clone()),
        None => ChangeFeed::spawn_watching(
            feed_connection(&config.db_path).await?,
            repo_litefs::ChangeSignal::sqlite(&config.db_path),
        ),
    };
    let mut app_state = AppState::new(node.repo().clone(), info).with_feed(feed);
    if let Some(handle) = metrics {
        app_state = app_state.with_metrics(handle);
    }
    let http = TcpListener::bind(config.http_addr).await?;
    let http_addr = http.local_addr()?;
    let app = web::app(app_state);
    let web = tokio::spawn(async move {
        axum::serve(http, app).await.ok();
    })
    .abort_handle();
    Ok(RunningNode {
        name: config.name,
        http_addr,
        grpc_addr: node.grpc_addr(),
        primary,
        repo: node.repo().clone(),
        db: node.db().clone(),
        node,
        web,
    })
}

/// One read-only connection of its own for the [`ChangeFeed`], which reads new comments and
/// posts on it when the database's files change.
async fn feed_connection(path: &std::path::Path) -> Result<DatabaseConnection, NodeError> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut options = sea_orm::ConnectOptions::new(url);
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    sea_orm::Database::connect(options)
        .await
        .map_err(NodeError::Feed)
}
