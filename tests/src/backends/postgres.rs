//! Real PostgreSQL 15 as a [`BackendCluster`]: a primary and a streaming standby whose
//! replay lags each commit by 5 ms, a library node on each, with the blog's schema.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use repo_core::{BoxedLayer, Repo};
use repo_postgres::RoleConfig;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use super::{BackendCluster, Promotable, Twin, with_layers};
use crate::postgres::PgCluster;
use crate::postgres::nodes::{PgNodes, blog_config};

/// The PostgreSQL servers and the nodes on them (skipped when PostgreSQL is missing).
pub struct Postgres {
    /// `pg-1` on the primary, `pg-2` on the standby (dropped before the servers).
    nodes: PgNodes,
    /// The servers (locked to promote the standby).
    cluster: Mutex<PgCluster>,
    /// Whether the primary server was stopped and the standby promoted.
    promoted: AtomicBool,
}

impl BackendCluster for Postgres {
    const NAME: &'static str = "PostgreSQL";

    async fn start() -> Option<Self> {
        let cluster = PgCluster::start_or_skip()?;
        cluster
            .standby
            .configure("recovery_min_apply_delay = '5ms'")
            .expect("delay replay");
        let nodes = PgNodes::start_blog(&cluster).await;
        Some(Self {
            nodes,
            cluster: Mutex::new(cluster),
            promoted: AtomicBool::new(false),
        })
    }

    fn replica(&self) -> &Repo {
        self.nodes.standby.repo()
    }

    fn replica_db(&self) -> &DatabaseConnection {
        &self.nodes.standby_db
    }

    fn primary_db(&self) -> &DatabaseConnection {
        &self.nodes.primary_db
    }

    /// A database `twin` of its own on the primary's server.
    async fn twin(&self) -> Twin {
        let url = {
            let cluster = self.cluster.lock().expect("cluster");
            cluster
                .primary
                .psql("CREATE DATABASE twin")
                .expect("create the twin's database");
            format!(
                "postgres://postgres@127.0.0.1:{}/twin",
                cluster.primary.port
            )
        };
        let db = repo_postgres::connect(&url, Duration::from_secs(5))
            .await
            .expect("connect to the twin");
        Twin::over(db).await
    }

    async fn replica_with(&self, outer: Vec<BoxedLayer>) -> repo_litefs::Node {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let role = RoleConfig::new("pg-2", "pg-1").interval(Duration::from_millis(100));
        let config = blog_config(&self.nodes.standby_db, &self.nodes.endpoints, role)
            .repo(with_layers(outer));
        repo_litefs::Node::start(config, listener)
            .await
            .expect("another node on the standby")
    }

    /// Stops both nodes; after a promotion the old primary's node is dropped instead: its
    /// server is gone, and `Node::shutdown` would wait for its connection pool to close,
    /// which waits out sqlx's acquire timeout (30 s) of the role follower's last query.
    async fn close(self) {
        let PgNodes {
            primary, standby, ..
        } = self.nodes;
        standby.shutdown().await;
        if self.promoted.load(Ordering::SeqCst) {
            drop(primary);
        } else {
            primary.shutdown().await;
        }
    }
}

impl Promotable for Postgres {
    /// Stops the primary server (a clean shutdown sends the standby every WAL record
    /// first), then `pg_ctl promote`s the standby.
    async fn promote_replica(&self) {
        tokio::task::block_in_place(|| {
            let mut cluster = self.cluster.lock().expect("cluster");
            self.promoted.store(true, Ordering::SeqCst);
            cluster.primary.stop_fast().expect("stop the primary");
            cluster.standby.promote().expect("promote the standby");
        });
    }
}
