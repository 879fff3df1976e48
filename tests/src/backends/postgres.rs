//! Real PostgreSQL 15 as a [`BackendCluster`]: a primary and a streaming standby whose
//! replay lags each commit by 5 ms, a library node on each.

use repo_core::Repo;
use sea_orm::DatabaseConnection;

use super::BackendCluster;
use crate::postgres::PgCluster;
use crate::postgres::nodes::PgNodes;

/// The PostgreSQL servers and the nodes on them (skipped when PostgreSQL is missing).
pub struct Postgres {
    /// `pg-1` on the primary, `pg-2` on the standby (dropped before the servers).
    nodes: PgNodes,
    /// The servers.
    _cluster: PgCluster,
}

impl BackendCluster for Postgres {
    const NAME: &'static str = "PostgreSQL";

    async fn start() -> Option<Self> {
        let cluster = PgCluster::start_or_skip()?;
        cluster
            .standby
            .configure("recovery_min_apply_delay = '5ms'")
            .expect("delay replay");
        let nodes = PgNodes::start(&cluster, |c| c).await;
        Some(Self {
            nodes,
            _cluster: cluster,
        })
    }

    fn replica(&self) -> &Repo {
        self.nodes.standby.repo()
    }

    fn primary_db(&self) -> &DatabaseConnection {
        &self.nodes.primary_db
    }

    async fn close(self) {
        self.nodes.shutdown().await;
    }
}
