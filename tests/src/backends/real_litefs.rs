//! Real LiteFS as a [`BackendCluster`]: two LiteFS processes (FUSE mounts, static lease),
//! a library node on each.

use repo_core::{BoxedLayer, Repo};
use sea_orm::DatabaseConnection;

use super::{BackendCluster, Twin, with_layers};
use crate::real_litefs::cluster::LiteFsCluster;
use crate::real_litefs::stack::Stacks;

/// The LiteFS cluster and the nodes on it (skipped when LiteFS cannot run here).
pub struct RealLiteFs {
    /// The nodes (dropped before the cluster).
    stacks: Stacks,
    /// `node-1` (primary) and `node-2`.
    cluster: LiteFsCluster,
}

impl BackendCluster for RealLiteFs {
    const NAME: &'static str = "real LiteFS";

    async fn start() -> Option<Self> {
        let cluster = LiteFsCluster::start_or_skip(&["node-1", "node-2"]).await?;
        let stacks = Stacks::start(&cluster).await;
        Some(Self { stacks, cluster })
    }

    fn replica(&self) -> &Repo {
        &self.stacks.node("node-2").repo
    }

    fn replica_db(&self) -> &DatabaseConnection {
        &self.stacks.node("node-2").db
    }

    fn primary_db(&self) -> &DatabaseConnection {
        &self.stacks.node("node-1").db
    }

    /// A SQLite file outside LiteFS.
    async fn twin(&self) -> Twin {
        Twin::sqlite().await
    }

    async fn replica_with(&self, outer: Vec<BoxedLayer>) -> repo_litefs::Node {
        self.stacks
            .another_node(&self.cluster, "node-2", with_layers(outer))
            .await
    }

    async fn close(self) {
        self.stacks.close().await;
        self.cluster.shutdown().await;
    }
}
