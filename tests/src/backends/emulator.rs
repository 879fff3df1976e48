//! The LiteFS emulator as a [`BackendCluster`]: two library nodes over an emulated LiteFS
//! (its HTTP API, lease, commit guard and replication of the SQLite files after a 2 ms
//! lag), with the blog's schema.

use std::time::Duration;

use repo_core::{BoxedLayer, Durability, Repo};
use sea_orm::DatabaseConnection;

use super::{BackendCluster, Promotable, Twin, with_layers};
use crate::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};

/// The emulated cluster (never skipped).
pub struct Emulator {
    /// `node-1` (primary) and `node-2`.
    cluster: EmulatedCluster,
}

impl BackendCluster for Emulator {
    const NAME: &'static str = "the LiteFS emulator";

    async fn start() -> Option<Self> {
        let spec = ClusterSpec {
            nodes: 2,
            lag: Duration::from_millis(2),
            durability: Durability::Primary,
            schema: Schema::Blog,
        };
        Some(Self {
            cluster: EmulatedCluster::start(spec).await,
        })
    }

    fn replica(&self) -> &Repo {
        self.cluster.node("node-2").repo()
    }

    fn replica_db(&self) -> &DatabaseConnection {
        self.cluster.node("node-2").node.db()
    }

    fn primary_db(&self) -> &DatabaseConnection {
        self.cluster.node("node-1").node.db()
    }

    /// A SQLite file outside the emulator.
    async fn twin(&self) -> Twin {
        Twin::sqlite().await
    }

    async fn replica_with(&self, outer: Vec<BoxedLayer>) -> repo_litefs::Node {
        self.cluster
            .another_node("node-2", with_layers(outer))
            .await
    }

    async fn close(mut self) {
        self.cluster.stop_nodes().await;
    }
}

impl Promotable for Emulator {
    /// A graceful handover of the lease to `node-2` (LiteFS's `promote`): `node-1` stops
    /// committing, `node-2` receives everything it committed, then takes the lease.
    async fn promote_replica(&self) {
        self.cluster
            .emulator
            .handover("node-2", Duration::from_secs(10))
            .await
            .expect("hand the lease over to node-2");
    }
}
