//! Two repository nodes over a [`PgCluster`]: `pg-1` on the primary, `pg-2` on the
//! standby, each with its forwarding server on 127.0.0.1 port 0, assembled by
//! `repo_postgres::node_config` and `repo_litefs::Node`.

use std::time::Duration;

use repo_litefs::{ClusterSecret, Endpoints, Node, NodeConfig, OnLag};
use repo_postgres::RoleConfig;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use super::PgCluster;
use crate::cluster::SECRET;

/// The test schema: the blog's `tags` table, in PostgreSQL's dialect.
pub const SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS tags (id serial PRIMARY KEY, name text NOT NULL UNIQUE)";

/// The primary's node and the standby's.
#[derive(Debug)]
pub struct PgNodes {
    /// `pg-1`, on the primary.
    pub primary: Node,
    /// `pg-2`, on the standby: its writes are forwarded to `pg-1`.
    pub standby: Node,
    /// The primary's own connection (to count what was written).
    pub primary_db: DatabaseConnection,
    /// The standby's own connection.
    pub standby_db: DatabaseConnection,
    /// How `pg-1` and `pg-2` are reached.
    pub endpoints: Endpoints,
}

/// How the standby's node is adjusted before it starts (read-your-writes settings...).
pub type Adjust = fn(NodeConfig) -> NodeConfig;

impl PgNodes {
    /// Starts both nodes, the standby's read-your-writes looking for ledger rows in
    /// `probe` instead of its own database (so that only its LSN can end a wait).
    pub async fn start_with_probe(cluster: &PgCluster, probe: DatabaseConnection) -> Self {
        Self::start_adjusted(cluster, move |c| c.read_your_writes_ledger(probe.clone())).await
    }

    /// Starts both nodes; `adjust` changes the standby's settings.
    pub async fn start(cluster: &PgCluster, adjust: Adjust) -> Self {
        Self::start_adjusted(cluster, adjust).await
    }

    /// Starts both nodes with the blog's schema and entities ([`blog_config`]) instead of
    /// the [`SCHEMA`] of `tags` alone.
    pub async fn start_blog(cluster: &PgCluster) -> Self {
        Self::start_as(cluster, blog_config, |c| c).await
    }

    /// Starts both nodes with the settings `configure` makes (a test's own named
    /// transactions, say) instead of [`test_config`].
    pub async fn start_configured(
        cluster: &PgCluster,
        configure: fn(&DatabaseConnection, &Endpoints, RoleConfig) -> NodeConfig,
    ) -> Self {
        Self::start_as(cluster, configure, |c| c).await
    }

    async fn start_adjusted(
        cluster: &PgCluster,
        adjust: impl FnOnce(NodeConfig) -> NodeConfig,
    ) -> Self {
        Self::start_as(cluster, test_config, adjust).await
    }

    async fn start_as(
        cluster: &PgCluster,
        configure: fn(&DatabaseConnection, &Endpoints, RoleConfig) -> NodeConfig,
        adjust: impl FnOnce(NodeConfig) -> NodeConfig,
    ) -> Self {
        let statement_timeout = Duration::from_secs(5);
        let primary_db = repo_postgres::connect(&cluster.primary.url(), statement_timeout)
            .await
            .expect("connect to the primary");
        let standby_db = repo_postgres::connect(&cluster.standby.url(), statement_timeout)
            .await
            .expect("connect to the standby");
        let (l1, l2) = (
            TcpListener::bind("127.0.0.1:0").await.expect("bind"),
            TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        );
        let endpoints = Endpoints::map([
            ("pg-1", format!("http://{}", l1.local_addr().expect("addr"))),
            ("pg-2", format!("http://{}", l2.local_addr().expect("addr"))),
        ]);
        let config = |db: &DatabaseConnection, name: &str| {
            configure(
                db,
                &endpoints,
                RoleConfig::new(name, "pg-1").interval(Duration::from_millis(100)),
            )
        };
        let primary = Node::start(config(&primary_db, "pg-1"), l1)
            .await
            .expect("start pg-1");
        let standby = Node::start(adjust(config(&standby_db, "pg-2")), l2)
            .await
            .expect("start pg-2");
        Self {
            primary,
            standby,
            primary_db,
            standby_db,
            endpoints,
        }
    }

    /// Stops both nodes.
    pub async fn shutdown(self) {
        self.standby.shutdown().await;
        self.primary.shutdown().await;
    }
}

/// A test node's settings over `db`: the [`SCHEMA`], the `tags` entity and
/// [`InsertTags`](super::tag_batch::InsertTags) registered, read-your-writes bounded by 5 s
/// (failing on lag), forwarding to the nodes of `endpoints`, its role from `role`.
pub fn test_config(db: &DatabaseConnection, endpoints: &Endpoints, role: RoleConfig) -> NodeConfig {
    let secret = ClusterSecret::new(SECRET).expect("secret");
    repo_postgres::node_config(db.clone(), endpoints.clone(), secret, role)
        .migrate_with(|db| async move {
            sea_orm::ConnectionTrait::execute_unprepared(&db, SCHEMA).await?;
            Ok(())
        })
        .repo(|builder| {
            builder
                .entity::<blog_example::entities::tag::Entity>()
                .transaction::<super::tag_batch::InsertTags>()
        })
        .read_your_writes(Duration::from_secs(5), OnLag::Fail)
        .startup_wait(Duration::from_secs(30))
}

/// A test node's settings over `db` with the blog's schema, the `every_type_rows` table
/// ([`crate::cluster::try_migrate`]) and the blog's entities and transactions
/// ([`crate::cluster::blog_builder_from`]); otherwise as [`test_config`].
pub fn blog_config(db: &DatabaseConnection, endpoints: &Endpoints, role: RoleConfig) -> NodeConfig {
    test_config(db, endpoints, role)
        .migrate_with(|db| async move { crate::cluster::try_migrate(&db).await })
        .repo(crate::cluster::blog_builder_from)
}

/// The one number `sql` returns on `db` (a `count(*)`, say).
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = sea_orm::ConnectionTrait::query_one_raw(
        db,
        sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql),
    )
    .await
    .expect("query")
    .expect("a row");
    row.try_get_by_index(0).expect("a number")
}
