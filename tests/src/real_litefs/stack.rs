//! The repository stack on each node of a real LiteFS cluster, as an application runs it:
//! a library [`repo_litefs::Node`] following the node's own LiteFS API (`/info`, `/events`),
//! with read-your-writes by LiteFS TXID (`<db>-pos` on both sides), a counter in front of
//! the node's own executor, and the node's forwarding server. The harness opens the files
//! itself (replicas read-only, so a stray local write fails as on LiteFS).
//!
//! On a cluster a region apart ([`LiteFsCluster::link_delay`]), each node's forwarding
//! server is reached through a [`Proxy`] with the same one-way delay.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use repo_core::{BoxedLayer, Repo};
use repo_litefs::durability::DurabilityConfig;
use repo_litefs::tracker::PrimaryTracker;
use repo_litefs::{ClusterSecret, Endpoints, Node, NodeConfig, OnLag};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use super::cluster::LiteFsCluster;
use crate::cluster::{SECRET, blog_builder_from, migrate};
use crate::layers::CountingLayer;
use crate::proxy::{Proxy, links_to};
use repo_litefs::ledger::PruneConfig;

/// The database every stack opens in its node's mount.
pub const DB: &str = "blog.db";

/// How long a replica waits for the schema to replicate.
const SCHEMA_WAIT: Duration = Duration::from_secs(30);

/// One node's application side.
pub struct NodeStack {
    /// The node's name.
    pub name: String,
    /// The node's repository: forwarding layer, counter, executor.
    pub repo: Repo,
    /// The node's own connection to the database in its mount (read-only on a replica).
    pub db: DatabaseConnection,
    /// Writes that reached this node's executor through its repository.
    pub executed: CountingLayer,
    /// The node's tracker, following its LiteFS.
    pub tracker: PrimaryTracker,
    /// The forwarding server's address.
    pub addr: SocketAddr,
    /// The library node.
    pub node: Node,
}

/// What ends a replica's read-your-writes wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// The library's behaviour: the local TXID reaching the primary's, or the write's ledger
    /// row becoming visible locally, whichever comes first.
    TxidOrLedger,
    /// The TXID alone: the ledger probe looks at an empty decoy table, so a wait can only end
    /// by LiteFS's `<db>-pos` catching up (to test the TXID path on its own).
    TxidOnly,
}

/// How [`Stacks::start_with`] sets the stacks up.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// What ends a replica's read-your-writes wait.
    pub wait_for: WaitFor,
    /// Every node's durability settings (`None`: `Durability::Primary` only).
    pub durability: Option<DurabilityConfig>,
    /// Nodes that get no stack (no repository, no server, no position reports).
    pub without: Vec<String>,
    /// How the primary prunes its ledger (the library's default when `None`).
    pub prune: Option<PruneConfig>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            wait_for: WaitFor::TxidOrLedger,
            durability: None,
            without: Vec::new(),
            prune: None,
        }
    }
}

/// Every node's stack.
pub struct Stacks {
    /// One per LiteFS node, in the cluster's order.
    pub nodes: Vec<NodeStack>,
    /// Across regions: one delayed proxy per node, in front of its forwarding server.
    pub links: Vec<Proxy>,
    /// Keeps the decoy ledgers of [`WaitFor::TxidOnly`] until the stacks are gone.
    _decoys: Option<tempfile::TempDir>,
}

impl Stacks {
    /// Starts a stack on each node: the primary (in WAL mode, as LiteFS recommends) runs the
    /// migrations; replicas wait for the schema, then open their file read-only.
    pub async fn start(cluster: &LiteFsCluster) -> Self {
        Self::start_waiting_for(cluster, WaitFor::TxidOrLedger).await
    }

    /// Like [`Stacks::start`], with the replicas' waits ended by `wait_for`.
    pub async fn start_waiting_for(cluster: &LiteFsCluster, wait_for: WaitFor) -> Self {
        Self::start_with(
            cluster,
            StackOptions {
                wait_for,
                ..StackOptions::default()
            },
        )
        .await
    }

    /// Like [`Stacks::start`], as `options` say (the primary always gets a stack).
    pub async fn start_with(cluster: &LiteFsCluster, options: StackOptions) -> Self {
        let wait_for = options.wait_for;
        let decoys = match wait_for {
            WaitFor::TxidOrLedger => None,
            WaitFor::TxidOnly => Some(tempfile::tempdir().expect("decoy dir")),
        };
        let secret = ClusterSecret::new(SECRET).expect("secret");
        let mut listeners = Vec::new();
        for _ in &cluster.nodes {
            listeners.push(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind"),
            );
        }
        let (addrs, links) = links_to(&listeners, cluster.link_delay()).await;
        let endpoints = Endpoints::map(
            cluster
                .nodes
                .iter()
                .zip(&addrs)
                .map(|(n, a)| (n.name.clone(), format!("http://{a}"))),
        );

        let primary = cluster.primary();
        let db = open(&primary.db_path(DB), "rwc").await;
        db.execute_unprepared("PRAGMA journal_mode = wal")
            .await
            .expect("wal");
        migrate(&db).await;

        let mut nodes = Vec::new();
        for (node, listener) in cluster.nodes.iter().zip(listeners) {
            if options.without.contains(&node.name) && node.name != primary.name {
                continue;
            }
            let path = node.db_path(DB);
            let db = if node.name == primary.name {
                db.clone()
            } else {
                schema_replicated(&path).await
            };
            let executed = CountingLayer::default();
            let mut config =
                NodeConfig::new(node.name.clone(), path, endpoints.clone(), secret.clone())
                    .litefs_api(node.api_url())
                    .mount_dir(node.mount.clone())
                    .connection(db.clone())
                    .stack(None)
                    .repo(blog_builder_from)
                    .executor_layer(BoxedLayer::new(executed.clone()))
                    .read_your_writes(Duration::from_secs(5), OnLag::Fail)
                    .startup_wait(Duration::from_secs(10));
            if let Some(prune) = options.prune {
                config = config.prune(prune);
            }
            if let Some(durability) = &options.durability {
                config = config.durability(durability.clone());
            }
            if let Some(dir) = &decoys {
                config = config.read_your_writes_ledger(
                    decoy_ledger(&dir.path().join(format!("{}.db", node.name))).await,
                );
            }
            let started = Node::start(config, listener)
                .await
                .expect("the node learns the primary from LiteFS");
            nodes.push(NodeStack {
                name: node.name.clone(),
                repo: started.repo().clone(),
                db,
                executed,
                tracker: started.tracker().clone(),
                addr: started.grpc_addr(),
                node: started,
            });
        }
        Self {
            nodes,
            links,
            _decoys: decoys,
        }
    }

    /// The stack of the node named `name`.
    pub fn node(&self, name: &str) -> &NodeStack {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Starts another library node on LiteFS node `name` (a second application instance
    /// on the same machine, following the same LiteFS API), over that node's stack's
    /// connection, its repository built by `customize`; it reaches the others' forwarding
    /// servers directly (not through a delayed link).
    pub async fn another_node(
        &self,
        cluster: &LiteFsCluster,
        name: &str,
        customize: impl Fn(repo_core::RepoBuilder) -> repo_core::RepoBuilder + Send + Sync + 'static,
    ) -> Node {
        let litefs = cluster
            .nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no LiteFS node {name}"));
        let endpoints = Endpoints::map(
            self.nodes
                .iter()
                .map(|n| (n.name.clone(), format!("http://{}", n.addr))),
        );
        let config = NodeConfig::new(
            name,
            litefs.db_path(DB),
            endpoints,
            ClusterSecret::new(SECRET).expect("secret"),
        )
        .litefs_api(litefs.api_url())
        .mount_dir(litefs.mount.clone())
        .connection(self.node(name).db.clone())
        .stack(None)
        .repo(customize)
        .read_your_writes(Duration::from_secs(5), OnLag::Fail)
        .startup_wait(Duration::from_secs(10));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Node::start(config, listener)
            .await
            .expect("the node learns the primary from LiteFS")
    }

    /// Changes the one-way delay to every forwarding server (stacks started without one
    /// keep none).
    pub fn set_link_delay(&self, one_way: std::time::Duration) {
        for link in &self.links {
            link.set_delay(one_way);
        }
    }

    /// Stops every server and closes every connection, so that LiteFS can unmount.
    pub async fn close(mut self) {
        for node in std::mem::take(&mut self.nodes) {
            let db = node.db.clone();
            node.node.shutdown().await;
            let _ = db.close().await;
        }
    }
}

/// An empty ledger table outside LiteFS, for [`WaitFor::TxidOnly`].
async fn decoy_ledger(path: &std::path::Path) -> DatabaseConnection {
    let db = open(path, "rwc").await;
    db.execute_unprepared(&format!(
        "CREATE TABLE {} (request_id BLOB PRIMARY KEY)",
        repo_litefs::ledger::TABLE
    ))
    .await
    .expect("decoy ledger");
    db
}

async fn open(path: &std::path::Path, mode: &str) -> DatabaseConnection {
    Database::connect(format!("sqlite://{}?mode={mode}", path.display()))
        .await
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

/// Opens the replica's file read-only once the whole schema (the every_type_rows table is created
/// last) has replicated to it.
async fn schema_replicated(path: &std::path::Path) -> DatabaseConnection {
    let until = Instant::now() + SCHEMA_WAIT;
    let probe = "SELECT 1 FROM sqlite_master WHERE name = 'every_type_rows'";
    loop {
        if path.exists() {
            let db = open(path, "ro").await;
            let found = db
                .query_one_raw(Statement::from_string(DbBackend::Sqlite, probe))
                .await;
            if let Ok(Some(_)) = found {
                return db;
            }
            let _ = db.close().await;
        }
        assert!(
            Instant::now() < until,
            "the schema did not replicate to {} in {SCHEMA_WAIT:?}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
