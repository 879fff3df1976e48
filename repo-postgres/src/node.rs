//! A node on PostgreSQL: its connection, and its `NodeConfig`.

use std::sync::Arc;
use std::time::Duration;

use repo_core::BoxedLayer;
use repo_litefs::{ClusterSecret, Endpoints, NodeConfig};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

use crate::backend::Postgres;
use crate::refresh::RoleRefreshLayer;
use crate::role::RoleConfig;

/// Connects to `url` with every statement bounded by `statement_timeout` (PostgreSQL
/// interrupts a statement that runs longer): the writer's upper bound on this backend. A
/// write whose call has a nearer deadline is bounded by that deadline instead (the writer
/// sets `statement_timeout` for the write's transaction).
pub async fn connect(url: &str, statement_timeout: Duration) -> Result<DatabaseConnection, DbErr> {
    let millis = statement_timeout.as_millis().max(1).to_string();
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .max_connections(8)
        .map_sqlx_postgres_opts(move |o| o.options([("statement_timeout", millis.as_str())]));
    Database::connect(options).await
}

/// The settings of a node over the PostgreSQL connection `db` (its own server: the
/// primary, or a streaming standby), named by `role`'s node name, whose writes go to the
/// node `role` names as primary (reached through `endpoints`) while this one is a standby. Everything else is a `NodeConfig` as on
/// LiteFS (`.migrator`, `.repo`, `.read_your_writes`, ...).
///
/// # Panics
///
/// Outside a Tokio runtime (the role follower starts here).
pub fn node_config(
    db: DatabaseConnection,
    endpoints: Endpoints,
    secret: ClusterSecret,
    role: RoleConfig,
) -> NodeConfig {
    let name = role.node.clone();
    let backend = Postgres::new(db.clone(), role);
    let refresh = RoleRefreshLayer::new(backend.follower().clone());
    NodeConfig::new(name, "postgres", endpoints, secret)
        .connection(db)
        .backend(Arc::new(backend))
        .executor_layer(BoxedLayer::new(refresh))
}
