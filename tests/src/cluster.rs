//! An in-process cluster: one primary and replicas on 127.0.0.1, each node with its own
//! SQLite file and its own forwarding server, the replicas' files opened read-only so that
//! a local write there fails as it does on LiteFS. Primary discovery is driven by the test
//! through manual trackers.

use std::time::Duration;

use blog_example::entities::{comment, post, post_tag, tag};
use blog_example::transactions::{self, NewPost};
use migrations::{Migrator, MigratorTrait};
use repo_core::Repo;
use repo_litefs::emulator::Replicator;
use repo_litefs::tracker::{PrimaryHandle, PrimaryState, PrimaryTracker, Role};
use repo_litefs::{ClusterSecret, Endpoints, OnLag};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Schema};
use tempfile::TempDir;

use crate::layers::CountingLayer;
use crate::{every_pg_type, every_type};

/// The secret every node of a test cluster shares.
pub const SECRET: &str = "test-cluster-secret-0123456789";

/// One node — a library [`repo_litefs::Node`] — with what the tests look at: its database,
/// repository, executor counter, tracker handle and server address.
pub struct Node {
    /// `node-1`, `node-2`, …
    pub name: String,
    /// The node's repository (forwarding layer, then a counter, then the executor).
    pub repo: Repo,
    /// The node's own database connection.
    pub db: DatabaseConnection,
    /// Counts the writes that reached this node's own executor through its repository.
    pub executed: CountingLayer,
    /// Sets what this node's tracker reports.
    pub tracker: PrimaryHandle,
    /// The forwarding server's address.
    pub addr: std::net::SocketAddr,
    /// The library node: tracker, repository, server, pruner.
    pub node: repo_litefs::Node,
}

impl Node {
    /// Kills the node's forwarding server at once: connections drop, in-flight calls fail.
    pub fn kill_server(&mut self) {
        self.node.kill_server();
    }

    /// Stops the node's forwarding server.
    pub fn stop_server(&mut self) {
        self.node.stop_server();
    }
}

/// A primary (`nodes[0]`) and its replicas.
pub struct Cluster {
    /// Every node; `nodes[0]` starts as the primary.
    pub nodes: Vec<Node>,
    /// How each node is reached.
    pub endpoints: Endpoints,
    /// Copies the primary's data to the read-only replicas, when started replicated.
    pub replicator: Option<Replicator>,
    _dir: TempDir,
}

/// How replicas receive the primary's data and wait for their own writes.
#[derive(Debug, Clone, Copy)]
pub struct Replication {
    /// Time between a commit on the primary and its copy on the replicas.
    pub lag: Duration,
    /// The longest read-your-writes wait.
    pub wait: Duration,
    /// What a write does when the wait ends first.
    pub on_lag: OnLag,
}

/// Opens (creating) a SQLite file and gives it the blog schema and the every_type_rows table.
pub async fn migrated(path: &std::path::Path) -> DatabaseConnection {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open");
    migrate(&db).await;
    db
}

/// Gives `db` the blog schema and the every_type_rows table (`every_pg_type_rows` on
/// PostgreSQL), unless it has them already.
pub async fn migrate(db: &DatabaseConnection) {
    try_migrate(db).await.expect("migrate");
}

/// [`migrate`], returning the error (SQLite or PostgreSQL).
pub async fn try_migrate(db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
    Migrator::up(db, None).await?;
    let schema = Schema::new(db.get_database_backend());
    // sea-orm reads no unsigned integer from PostgreSQL, and sqlx binds an `i8` as its
    // internal `"char"` type: PostgreSQL gets a table of the types it has instead.
    let mut table = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        schema.create_table_from_entity(every_pg_type::Entity)
    } else {
        schema.create_table_from_entity(every_type::Entity)
    };
    db.execute(table.if_not_exists()).await?;
    Ok(())
}

/// A repository builder with the blog's transactions and entities registered.
pub fn blog_builder(db: DatabaseConnection) -> repo_core::RepoBuilder {
    blog_builder_from(Repo::builder(db))
}

/// `builder` with the blog's transactions and entities registered.
pub fn blog_builder_from(builder: repo_core::RepoBuilder) -> repo_core::RepoBuilder {
    transactions::register(builder)
        .entity::<post::Entity>()
        .entity::<comment::Entity>()
        .entity::<tag::Entity>()
        .entity::<post_tag::Entity>()
        .entity::<every_type::Entity>()
        .entity::<every_pg_type::Entity>()
        .sea_orm_returning(true)
}

/// The state a tracker reports for a node when `primary` is the primary.
pub fn state_for(node: &str, primary: &str) -> PrimaryState {
    PrimaryState {
        role: if node == primary {
            Role::Primary
        } else {
            Role::Replica
        },
        primary: Some(primary.to_owned()),
    }
}

impl Cluster {
    /// Starts a cluster of `1 + replicas` nodes; `writable` extra nodes (after the primary)
    /// get a writable database, for primary-change tests.
    pub async fn start(replicas: usize) -> Self {
        Self::start_with(replicas, 0).await
    }

    /// Like [`Cluster::start`], with the first `writable` replicas' files writable.
    pub async fn start_with(replicas: usize, writable: usize) -> Self {
        Self::build(replicas, writable, None).await
    }

    /// A cluster whose read-only replicas receive the primary's data through a
    /// [`Replicator`] and wait for their own writes (`ReadYourWrites`).
    pub async fn start_replicated(replicas: usize, replication: Replication) -> Self {
        Self::build(replicas, 0, Some(replication)).await
    }

    async fn build(replicas: usize, writable: usize, replication: Option<Replication>) -> Self {
        let dir = tempfile::tempdir().expect("dir");
        let primary_path = dir.path().join("node-1.db");
        let primary_db = migrated(&primary_path).await;
        let names: Vec<String> = (1..=replicas + 1).map(|i| format!("node-{i}")).collect();

        // Bind every server first, so that the endpoint map is known.
        let mut listeners = Vec::new();
        for _ in &names {
            listeners.push(
                tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind"),
            );
        }
        let endpoints = Endpoints::map(names.iter().zip(&listeners).map(|(n, l)| {
            (
                n.clone(),
                format!("http://{}", l.local_addr().expect("addr")),
            )
        }));
        let secret = ClusterSecret::new(SECRET).expect("secret");

        let mut nodes = Vec::new();
        for (i, (name, listener)) in names.iter().zip(listeners).enumerate() {
            let db = if i == 0 {
                primary_db.clone()
            } else {
                let path = dir.path().join(format!("{name}.db"));
                std::fs::copy(&primary_path, &path).expect("copy schema");
                let mode = if i <= writable { "rwc" } else { "ro" };
                Database::connect(format!("sqlite://{}?mode={mode}", path.display()))
                    .await
                    .expect("open replica")
            };
            let (tracker, handle) = PrimaryTracker::manual(state_for(name, "node-1"));
            let executed = CountingLayer::default();
            let mut config = repo_litefs::NodeConfig::new(
                name.clone(),
                dir.path().join(format!("{name}.db")),
                endpoints.clone(),
                secret.clone(),
            )
            .connection(db.clone())
            .tracker(tracker)
            .stack(None)
            .repo(blog_builder_from)
            .executor_layer(repo_core::BoxedLayer::new(executed.clone()))
            .primary_wait(Duration::from_millis(300));
            config = match replication {
                Some(r) => config.read_your_writes(r.wait, r.on_lag),
                // Without replication, forwarded writes return as soon as they committed.
                None => config.without_read_your_writes(),
            };
            let node = repo_litefs::Node::start(config, listener)
                .await
                .expect("node starts");
            nodes.push(Node {
                name: name.clone(),
                repo: node.repo().clone(),
                db,
                executed,
                tracker: handle,
                addr: node.grpc_addr(),
                node,
            });
        }
        let replicator = match replication {
            Some(r) => {
                let targets = (writable + 1..=replicas)
                    .map(|i| {
                        (
                            names[i].clone(),
                            dir.path().join(format!("{}.db", names[i])),
                        )
                    })
                    .collect();
                Some(
                    Replicator::start(&primary_path, targets, r.lag)
                        .await
                        .expect("replicator"),
                )
            }
            None => None,
        };
        Self {
            nodes,
            endpoints,
            replicator,
            _dir: dir,
        }
    }

    /// The primary node (`nodes[0]`).
    pub fn primary(&self) -> &Node {
        &self.nodes[0]
    }

    /// The SQLite file of `nodes[i]`.
    pub fn path(&self, i: usize) -> std::path::PathBuf {
        self._dir.path().join(format!("node-{}.db", i + 1))
    }

    /// Replica `i` (1-based, as `nodes[i]`).
    pub fn replica(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// Tells every node that `primary` is the primary.
    pub fn set_primary(&self, primary: &str) {
        for node in &self.nodes {
            node.tracker.set(state_for(&node.name, primary));
        }
    }
}

/// The arguments of `create_post_with_tags.v1` for a post of slug `slug` with one tag of
/// its own, `tag-of-<slug>`.
pub fn post_args(slug: &str) -> NewPost {
    NewPost {
        title: format!("Title {slug}"),
        slug: slug.to_owned(),
        body: "body".into(),
        tags: vec![format!("tag-of-{slug}")],
    }
}
