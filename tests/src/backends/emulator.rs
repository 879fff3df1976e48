//! The LiteFS emulator as a [`BackendCluster`]: a primary and one read-only replica of
//! SQLite files, copied after a 2 ms lag.

use std::time::Duration;

use repo_core::Repo;
use repo_litefs::OnLag;
use sea_orm::DatabaseConnection;

use super::BackendCluster;
use crate::cluster::{Cluster, Replication};

/// The emulated cluster (never skipped).
pub struct Emulator {
    /// `node-1` (primary) and `node-2`.
    cluster: Cluster,
}

impl BackendCluster for Emulator {
    const NAME: &'static str = "the LiteFS emulator";

    async fn start() -> Option<Self> {
        let replication = Replication {
            lag: Duration::from_millis(2),
            wait: Duration::from_secs(5),
            on_lag: OnLag::Fail,
        };
        Some(Self {
            cluster: Cluster::start_replicated(1, replication).await,
        })
    }

    fn replica(&self) -> &Repo {
        &self.cluster.replica(1).repo
    }

    fn primary_db(&self) -> &DatabaseConnection {
        &self.cluster.primary().db
    }

    async fn close(self) {
        drop(self.cluster);
    }
}
