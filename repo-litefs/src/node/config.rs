//! `NodeConfig`: what a node needs, with defaults for everything but its identity.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use repo_core::{BoxedLayer, RepoBuilder, WriterConfig};
use repo_middleware::StackConfig;
use sea_orm::sqlx::sqlite::SqliteSynchronous;
use sea_orm::{DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::forward::{Endpoints, OnLag};
use crate::ledger::PruneConfig;
use crate::secret::ClusterSecret;
use crate::server::ServerConfig;
use crate::tracker::PrimaryTracker;

/// Runs the application's migrations on the primary's database.
pub(crate) type Migrate =
    Arc<dyn Fn(DatabaseConnection) -> BoxFuture<'static, Result<(), DbErr>> + Send + Sync>;
/// Registers the application's named transactions and entities (and any layer of its own).
pub(crate) type Customize = Arc<dyn Fn(RepoBuilder) -> RepoBuilder + Send + Sync>;

/// Everything one node needs: who it is, where its database and LiteFS are, how to reach
/// the others. Only [`NodeConfig::new`]'s arguments are required; every other setting has
/// a default that a production node can run with.
///
/// ```
/// use repo_litefs::node::NodeConfig;
/// use repo_litefs::{ClusterSecret, Endpoints};
///
/// # fn demo() -> Result<(), repo_litefs::SecretError> {
/// let config = NodeConfig::new(
///     "node-1",                                          // LiteFS's lease hostname
///     "/litefs/app.db",                                  // the database in the mount
///     Endpoints::template("http://{hostname}:50051"),    // how nodes reach each other
///     ClusterSecret::new("a long random cluster secret")?,
/// )
/// .litefs_api("http://127.0.0.1:20202")
/// .mount_dir("/litefs");
/// # let _ = config; Ok(()) }
/// ```
#[derive(Clone)]
pub struct NodeConfig {
    /// This node's hostname, as LiteFS's lease names it.
    pub(crate) name: String,
    /// The database file.
    pub(crate) db_path: PathBuf,
    /// The local LiteFS HTTP API (`/info`, `/events`).
    pub(crate) litefs_api: Option<String>,
    /// The LiteFS mount directory (`.primary`, `<db>-pos`, `.lag`).
    pub(crate) mount_dir: Option<PathBuf>,
    /// Whether read-your-writes uses LiteFS's TXID from `<db>-pos`.
    pub(crate) txid: bool,
    /// How other nodes' forwarding servers are reached.
    pub(crate) endpoints: Endpoints,
    /// The cluster secret, for both directions.
    pub(crate) secret: ClusterSecret,
    /// A tracker given by the caller instead of one following LiteFS.
    pub(crate) tracker: Option<PrimaryTracker>,
    /// A connection given by the caller instead of opening `db_path`.
    pub(crate) connection: Option<DatabaseConnection>,
    /// SQLite's `synchronous` for the connections the node opens on `db_path` (`None`:
    /// SQLite's default, `FULL`).
    pub(crate) synchronous: Option<SqliteSynchronous>,
    /// Where read-your-writes looks for the ledger row (default: the node's database).
    pub(crate) ledger_probe: Option<DatabaseConnection>,
    /// The application's migrations (run on the primary before the ledger's table).
    pub(crate) migrate: Option<Migrate>,
    /// The application's additions to the repository.
    pub(crate) customize: Option<Customize>,
    /// The standard middleware stack, or none.
    pub(crate) stack: Option<StackConfig>,
    /// Layers between the forwarding layer and the executor.
    pub(crate) executor_layers: Vec<BoxedLayer>,
    /// The writer's time budget and SQLite limits.
    pub(crate) writer: WriterConfig,
    /// The forwarding server's settings, adjusted from the node's.
    pub(crate) server: Arc<dyn Fn(ServerConfig) -> ServerConfig + Send + Sync>,
    /// The longest read-your-writes wait, and what happens when it runs out (`None`:
    /// forwarded writes return once committed on the primary).
    pub(crate) consistency: Option<(Duration, OnLag)>,
    /// How the ledger is pruned.
    pub(crate) prune: PruneConfig,
    /// How long to wait for a primary and (on a replica) the schema at start.
    pub(crate) startup_wait: Duration,
    /// How long a write waits for a primary to be known.
    pub(crate) primary_wait: Duration,
    /// The replication backend (`None`: LiteFS, as the settings above say).
    pub(crate) backend: Option<Arc<dyn crate::backend::Backend>>,
    /// The durability settings (`None`: every write is answered once committed on the
    /// primary, and `Durability::Candidates` is refused).
    pub(crate) durability: Option<crate::durability::DurabilityConfig>,
}

impl std::fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeConfig")
            .field("name", &self.name)
            .field("db_path", &self.db_path)
            .field("litefs_api", &self.litefs_api)
            .field("mount_dir", &self.mount_dir)
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl NodeConfig {
    /// A node named `name` (LiteFS's lease hostname) over the SQLite file `db_path`,
    /// reaching other nodes through `endpoints`, authenticated by `secret`.
    ///
    /// Defaults: the standard middleware stack (`StackConfig::default()`), read-your-writes
    /// waits of at most 5 s failing with `RepoError::ReplicationLag` (which says the write
    /// committed) when they run out ([`OnLag::Fail`]; see [`OnLag`] for why), every write
    /// answered once committed on the primary (`Durability::Primary`; see
    /// [`NodeConfig::durability`]), the writer's defaults, ledger pruning after 24 h, 30 s
    /// to find a primary at start.
    pub fn new(
        name: impl Into<String>,
        db_path: impl Into<PathBuf>,
        endpoints: Endpoints,
        secret: ClusterSecret,
    ) -> Self {
        Self {
            name: name.into(),
            db_path: db_path.into(),
            litefs_api: None,
            mount_dir: None,
            txid: true,
            endpoints,
            secret,
            tracker: None,
            connection: None,
            synchronous: None,
            ledger_probe: None,
            migrate: None,
            customize: None,
            stack: Some(StackConfig::default()),
            executor_layers: Vec::new(),
            writer: WriterConfig::default(),
            server: Arc::new(|config| config),
            consistency: Some((Duration::from_secs(5), OnLag::default())),
            prune: PruneConfig::default(),
            startup_wait: Duration::from_secs(30),
            primary_wait: Duration::from_secs(5),
            durability: None,
            backend: None,
        }
    }

    /// Runs on another replication backend than LiteFS (PostgreSQL streaming replicas:
    /// crate `repo-postgres`): the node's role, read-your-writes positions, the allowlist's
    /// dialect and the restoring of the primary's errors come from `backend` (see
    /// [`crate::backend`]). Give the node its connection with [`NodeConfig::connection`];
    /// a tracker given with [`NodeConfig::tracker`] still takes precedence.
    pub fn backend(mut self, backend: Arc<dyn crate::backend::Backend>) -> Self {
        self.backend = Some(backend);
        self
    }

    /// The node's durability settings: its default `Durability`, the lease candidates a
    /// `Durability::Candidates` write must reach, and where positions come from (default:
    /// LiteFS's `<db>-pos` in [`NodeConfig::mount_dir`]). Give every node the same settings:
    /// replicas report their position to the primary, the primary waits on the reports.
    pub fn durability(mut self, durability: crate::durability::DurabilityConfig) -> Self {
        self.durability = Some(durability);
        self
    }

    /// Follows LiteFS's HTTP API at `url` (`/info`, then the `/events` stream).
    pub fn litefs_api(mut self, url: impl Into<String>) -> Self {
        self.litefs_api = Some(url.into());
        self
    }

    /// LiteFS's mount directory: its `<db>-pos` lets read-your-writes end as soon as this
    /// node's TXID reaches the primary's, its `.lag` feeds [`crate::node::NodeHealth`], and
    /// its `.primary` names the primary when no API is configured.
    pub fn mount_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.mount_dir = Some(dir.into());
        self
    }

    /// Whether read-your-writes also ends a wait by LiteFS's TXID (`<db>-pos` in the mount
    /// directory, on both sides; default: yes when [`NodeConfig::mount_dir`] is set). Turn it
    /// off for a stand-in whose `<db>-pos` is not LiteFS's (the emulator's TXID counts the
    /// commits it observed, and is written after them); the wait then ends by the write's
    /// ledger row alone.
    pub fn txid_wait(mut self, enabled: bool) -> Self {
        self.txid = enabled;
        self
    }

    /// Uses `tracker` for the role and the primary instead of following LiteFS (tests,
    /// other discovery).
    pub fn tracker(mut self, tracker: PrimaryTracker) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// Uses `db` instead of opening `db_path`. The node then cannot choose how the file is
    /// opened: a connection opened read-only stays so after a promotion (the node's own
    /// way is read-write everywhere, LiteFS refusing writes on replicas by itself). For
    /// tests that emulate LiteFS's refusal with a read-only file, and applications that
    /// open their database in a way of their own.
    pub fn connection(mut self, db: DatabaseConnection) -> Self {
        self.connection = Some(db);
        self
    }

    /// SQLite's `synchronous` setting for the connections the node opens on its file (not
    /// for a connection given with [`NodeConfig::connection`]); the node's writer copies it.
    /// Default: SQLite's own, `FULL`, which a LiteFS deployment keeps (a commit survives
    /// a power loss). `OFF` skips the fsyncs (a commit survives the process crashing, not
    /// the machine): for databases that do not outlive the process anyway, such as a local
    /// cluster in a temporary directory.
    pub fn synchronous(mut self, synchronous: SqliteSynchronous) -> Self {
        self.synchronous = Some(synchronous);
        self
    }

    /// Where read-your-writes polls for a forwarded write's ledger row (default: the node's
    /// own database). With LiteFS's `<db>-pos` known (see [`NodeConfig::mount_dir`]) a wait
    /// also ends when this node's TXID reaches the primary's.
    pub fn read_your_writes_ledger(mut self, db: DatabaseConnection) -> Self {
        self.ledger_probe = Some(db);
        self
    }

    /// The application's sea-orm-migration migrator, run on the primary at start (then the
    /// ledger's table is created if missing).
    pub fn migrator<M: MigratorTrait>(mut self) -> Self {
        self.migrate = Some(Arc::new(|db| {
            Box::pin(async move { M::up(&db, None).await })
        }));
        self
    }

    /// Any schema set-up of the application's own, run on the primary at start.
    pub fn migrate_with<F, Fut>(mut self, migrate: F) -> Self
    where
        F: Fn(DatabaseConnection) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), DbErr>> + Send + 'static,
    {
        self.migrate = Some(Arc::new(move |db| Box::pin(migrate(db))));
        self
    }

    /// The application's additions to the repository: named transactions, entities,
    /// `sea_orm_returning`, and its own layers (outermost, before the standard stack).
    pub fn repo(
        mut self,
        customize: impl Fn(RepoBuilder) -> RepoBuilder + Send + Sync + 'static,
    ) -> Self {
        self.customize = Some(Arc::new(customize));
        self
    }

    /// The standard stack's settings (`None`: no standard layers, only forwarding).
    pub fn stack(mut self, stack: Option<StackConfig>) -> Self {
        self.stack = stack;
        self
    }

    /// Adds a layer between the forwarding layer and the executor: it sees only the writes
    /// this node executes itself (as primary), never those it forwards.
    pub fn executor_layer(mut self, layer: BoxedLayer) -> Self {
        self.executor_layers.push(layer);
        self
    }

    /// The writer's maximum statement time and SQLite limits.
    pub fn writer(mut self, writer: WriterConfig) -> Self {
        self.writer = writer;
        self
    }

    /// Adjusts the forwarding server's settings (TLS, limits, allowlist policy…): `adjust`
    /// gets the node's defaults (its secret, name and LiteFS position file).
    pub fn server(
        mut self,
        adjust: impl Fn(ServerConfig) -> ServerConfig + Send + Sync + 'static,
    ) -> Self {
        self.server = Arc::new(adjust);
        self
    }

    /// The longest read-your-writes wait and what a write does when it runs out.
    pub fn read_your_writes(mut self, wait: Duration, on_lag: OnLag) -> Self {
        self.consistency = Some((wait, on_lag));
        self
    }

    /// Forwarded writes return as soon as the primary committed them, without waiting for
    /// this node to catch up: a read right after may not see the write.
    pub fn without_read_your_writes(mut self) -> Self {
        self.consistency = None;
        self
    }

    /// How the ledger is pruned (while this node is the primary).
    pub fn prune(mut self, prune: PruneConfig) -> Self {
        self.prune = prune;
        self
    }

    /// How long to wait at start for a primary, and on a replica for the schema.
    pub fn startup_wait(mut self, wait: Duration) -> Self {
        self.startup_wait = wait;
        self
    }

    /// How long a write waits for a primary to be known (default 5 s).
    pub fn primary_wait(mut self, wait: Duration) -> Self {
        self.primary_wait = wait;
        self
    }

    /// This node's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the node learns the primary, in words, for errors.
    pub(crate) fn litefs_source(&self) -> String {
        match (&self.tracker, &self.litefs_api, &self.mount_dir) {
            (Some(_), _, _) => "the tracker given to the node".to_owned(),
            (None, Some(api), _) => format!("LiteFS's API at {api}"),
            (None, None, Some(dir)) => format!("LiteFS's mount at {}", dir.display()),
            (None, None, None) => "nowhere (no LiteFS API or mount directory set)".to_owned(),
        }
    }

    /// The files whose change tells read-your-writes' watcher that this node's database
    /// may have changed: with SQLite, `<db>-pos` in the mount (LiteFS and the emulator
    /// write it after each transaction they apply), and the database file and its `-wal`
    /// when the ledger is looked for there. None for other dialects (the watcher then
    /// looks every millisecond).
    pub(crate) fn change_files(&self, dialect: crate::backend::SqlDialect) -> Vec<PathBuf> {
        if dialect != crate::backend::SqlDialect::Sqlite {
            return Vec::new();
        }
        let mut files = Vec::new();
        if let (Some(dir), Some(name)) = (&self.mount_dir, self.db_path.file_name()) {
            files.push(dir.join(format!("{}-pos", name.to_string_lossy())));
        }
        if self.ledger_probe.is_none() {
            let mut wal = self.db_path.clone().into_os_string();
            wal.push("-wal");
            files.push(self.db_path.clone());
            files.push(wal.into());
        }
        files
    }

    /// LiteFS's `<db>-pos` file for this node's database, when the mount is known.
    pub(crate) fn position_file(&self) -> Option<PathBuf> {
        if !self.txid {
            return None;
        }
        let dir = self.mount_dir.as_ref()?;
        let file = self.db_path.file_name()?.to_string_lossy().into_owned();
        Some(dir.join(format!("{file}-pos")))
    }
}
