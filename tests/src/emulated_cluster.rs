//! A cluster of library nodes ([`repo_litefs::Node`]) on the LiteFS emulator: each node
//! follows its emulated LiteFS API, its writer is fenced by the emulator's commit guard,
//! its position comes from the emulator, and every node is a lease candidate.
//!
//! Across regions ([`EmulatedCluster::start_across`]): each node's forwarding server is
//! reached through a [`Proxy`] with a one-way delay; give the emulator the same delay as
//! its replication lag ([`ClusterSpec::lag`]) and both ways between nodes take it.

use std::time::Duration;

use repo_core::{Durability, Repo, WriterConfig};
use repo_litefs::durability::{Candidates, DurabilityConfig};
use repo_litefs::emulator::LiteFsEmulator;
use repo_litefs::{ClusterSecret, Endpoints, OnLag};
use repo_middleware::{BreakerConfig, RetryConfig, StackConfig};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbErr};
use tempfile::TempDir;

use crate::history_row;
use crate::proxy::{Proxy, links_to};

/// The schema the writes go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// One table, no constraints beyond its primary key.
    Plain,
    /// The same table with a foreign key to `accounts`, a trigger counting each account's
    /// writes there, and a view over both.
    Relational,
    /// The blog's schema and the `every_type_rows` table ([`crate::cluster::try_migrate`]),
    /// the blog's entities and transactions registered.
    Blog,
}

/// How many accounts the relational schema has (writes name one of them).
pub const ACCOUNTS: i64 = 4;

impl Schema {
    /// The statements that create it.
    fn statements(self) -> Vec<&'static str> {
        match self {
            Schema::Plain => vec![
                "CREATE TABLE IF NOT EXISTS history_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 key TEXT NOT NULL, account_id INTEGER)",
            ],
            Schema::Relational => vec![
                "CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, writes INTEGER NOT \
                 NULL DEFAULT 0)",
                "INSERT OR IGNORE INTO accounts (id) VALUES (0), (1), (2), (3)",
                "CREATE TABLE IF NOT EXISTS history_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, \
                 key TEXT NOT NULL, account_id INTEGER NOT NULL REFERENCES accounts(id))",
                "CREATE TRIGGER IF NOT EXISTS count_writes AFTER INSERT ON history_rows BEGIN \
                 UPDATE accounts SET writes = writes + 1 WHERE id = NEW.account_id; END",
                "CREATE VIEW IF NOT EXISTS writes_per_account AS SELECT account_id, count(*) AS n \
                 FROM history_rows GROUP BY account_id",
            ],
            Schema::Blog => vec![],
        }
    }

    /// What the nodes' repositories register for it.
    fn register(self, builder: repo_core::RepoBuilder) -> repo_core::RepoBuilder {
        match self {
            Schema::Blog => crate::cluster::blog_builder_from(builder),
            Schema::Plain | Schema::Relational => builder.entity::<history_row::Entity>(),
        }
    }

    /// Creates it on `db`.
    pub async fn create(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        db.execute_unprepared("PRAGMA foreign_keys = ON").await?;
        for statement in self.statements() {
            db.execute_unprepared(statement).await?;
        }
        if self == Schema::Blog {
            crate::cluster::try_migrate(db).await?;
        }
        Ok(())
    }
}

/// One node: its name and the library node.
pub struct EmulatedNode {
    /// `node-1`, `node-2`, …
    pub name: String,
    /// The library node.
    pub node: repo_litefs::Node,
}

impl EmulatedNode {
    /// The node's repository.
    pub fn repo(&self) -> &Repo {
        self.node.repo()
    }
}

/// Library nodes over a [`LiteFsEmulator`] (see the module docs).
pub struct EmulatedCluster {
    /// The nodes, `nodes[0]` the first primary.
    pub nodes: Vec<EmulatedNode>,
    /// The emulator.
    pub emulator: LiteFsEmulator,
    /// Across regions: one delayed proxy per node, in front of its forwarding server.
    pub links: Vec<Proxy>,
    /// How the nodes' forwarding servers are reached.
    endpoints: Endpoints,
    /// How the cluster was built.
    spec: ClusterSpec,
    _dir: TempDir,
}

/// How a cluster is built.
#[derive(Debug, Clone, Copy)]
pub struct ClusterSpec {
    /// Number of nodes (all lease candidates).
    pub nodes: usize,
    /// Replication lag.
    pub lag: Duration,
    /// The nodes' default durability.
    pub durability: Durability,
    /// The schema.
    pub schema: Schema,
}

impl EmulatedCluster {
    /// Starts the cluster: the emulator, then node-1 (which creates the schema), then the
    /// others once it replicated.
    pub async fn start(spec: ClusterSpec) -> Self {
        Self::start_linked(spec, None).await
    }

    /// Like [`EmulatedCluster::start`], the nodes' forwarding a region apart: `one_way` is
    /// added to every byte to and from each forwarding server.
    pub async fn start_across(spec: ClusterSpec, one_way: Duration) -> Self {
        Self::start_linked(spec, Some(one_way)).await
    }

    async fn start_linked(spec: ClusterSpec, one_way: Option<Duration>) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let names: Vec<String> = (1..=spec.nodes).map(|i| format!("node-{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let emulator = LiteFsEmulator::start(dir.path(), &refs, "app.db", spec.lag)
            .await
            .expect("emulator");
        let mut listeners = Vec::new();
        for _ in &names {
            listeners.push(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind"),
            );
        }
        let (addrs, links) = links_to(&listeners, one_way).await;
        let endpoints = Endpoints::map(
            names
                .iter()
                .zip(&addrs)
                .map(|(n, a)| (n.clone(), format!("http://{a}"))),
        );
        let mut nodes = Vec::new();
        for (name, listener) in names.iter().zip(listeners) {
            let config = node_config(&emulator, name, &endpoints, spec);
            let node = repo_litefs::Node::start(config, listener)
                .await
                .expect("node starts");
            nodes.push(EmulatedNode {
                name: name.clone(),
                node,
            });
        }
        Self {
            nodes,
            emulator,
            links,
            endpoints,
            spec,
            _dir: dir,
        }
    }

    /// Starts another library node on emulated node `name` (a second application instance
    /// on the same machine), set up as `name`'s, its repository built by `customize`.
    pub async fn another_node(
        &self,
        name: &str,
        customize: impl Fn(repo_core::RepoBuilder) -> repo_core::RepoBuilder + Send + Sync + 'static,
    ) -> repo_litefs::Node {
        let config = node_config(&self.emulator, name, &self.endpoints, self.spec).repo(customize);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        repo_litefs::Node::start(config, listener)
            .await
            .expect("node starts")
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> &EmulatedNode {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .expect("known node")
    }

    /// Shuts every node's application down (servers, repositories, their connections),
    /// leaving the emulator running: what is left to check is the files.
    pub async fn stop_nodes(&mut self) {
        for node in self.nodes.drain(..) {
            node.node.shutdown().await;
        }
    }

    /// A fresh read-only connection to `name`'s file.
    pub async fn open(&self, name: &str) -> DatabaseConnection {
        let node = self.emulator.node(name).expect("node");
        Database::connect(format!("sqlite://{}?mode=ro", node.db_path.display()))
            .await
            .expect("open")
    }
}

/// Node `name`'s settings: following its emulated LiteFS API, its writer fenced by the
/// emulator's commit guard, every node a durability candidate.
fn node_config(
    emulator: &LiteFsEmulator,
    name: &str,
    endpoints: &Endpoints,
    spec: ClusterSpec,
) -> repo_litefs::NodeConfig {
    let emulated = emulator.node(name).expect("node").clone();
    let schema = spec.schema;
    let names: Vec<String> = (1..=spec.nodes).map(|i| format!("node-{i}")).collect();
    let durability = DurabilityConfig::new(Candidates::named(names))
        .default_durability(spec.durability)
        .wait(Duration::from_secs(2))
        .position_source(emulator.position_source(name));
    repo_litefs::NodeConfig::new(
        name,
        emulated.db_path.clone(),
        endpoints.clone(),
        ClusterSecret::new(crate::cluster::SECRET).expect("secret"),
    )
    .litefs_api(emulated.api_url.clone())
    .mount_dir(emulated.dir.clone())
    .txid_wait(false)
    .migrate_with(move |db| async move { schema.create(&db).await })
    .repo(move |builder| schema.register(builder))
    .writer(WriterConfig::default().commit_guard(emulator.commit_guard(name)))
    .stack(Some(stack()))
    .read_your_writes(Duration::from_secs(2), OnLag::Fail)
    .primary_wait(Duration::from_secs(2))
    .startup_wait(Duration::from_secs(20))
    .durability(durability)
}

/// The standard stack with retries enough to ride out a failover (same request id on each
/// attempt) and a breaker that does not open on one.
fn stack() -> StackConfig {
    StackConfig::default()
        .timeout(Duration::from_secs(3))
        .retry(
            RetryConfig::default()
                .max_attempts(12)
                .backoff(Duration::from_millis(5), Duration::from_millis(100))
                .budget(Duration::from_secs(10), 1_000, 10.0),
        )
        .breaker(
            BreakerConfig::default()
                .consecutive_failures(10_000)
                .failure_rate(1.1, 10, 10),
        )
}
