//! The local cluster: three nodes on 127.0.0.1 over the LiteFS emulator, in one process.

use std::path::Path;
use std::time::Duration;

use repo_litefs::emulator::{EmulatorError, LiteFsEmulator};
use repo_litefs::{ClusterSecret, Endpoints};

use crate::node::{self, NodeConfig, NodeError, RunningNode};

/// A running local cluster.
#[derive(Debug)]
pub struct LocalCluster {
    /// The nodes; the first is the primary.
    pub nodes: Vec<RunningNode>,
    /// The emulator standing in for LiteFS.
    pub emulator: LiteFsEmulator,
}

/// Why the cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The emulator failed.
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    /// A node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
    /// A port could not be reserved.
    #[error("cannot reserve a port: {0}")]
    Io(#[from] std::io::Error),
}

/// Starts `names.len()` nodes under `dir`, with `lag` of replication; the first is primary.
pub async fn start(
    dir: &Path,
    names: &[&str],
    lag: Duration,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> Result<LocalCluster, ClusterError> {
    let emulator = LiteFsEmulator::start(dir, names, "blog.db", lag).await?;
    // Bind the gRPC listeners first, so every node knows how to reach the others.
    let mut grpc = Vec::new();
    for _ in names {
        grpc.push(tokio::net::TcpListener::bind("127.0.0.1:0").await?);
    }
    let mut addrs = Vec::new();
    for listener in &grpc {
        addrs.push(listener.local_addr()?);
    }
    let endpoints = Endpoints::map(
        names
            .iter()
            .zip(&addrs)
            .map(|(n, a)| (*n, format!("http://{a}"))),
    );
    let secret = ClusterSecret::new(format!("local-{}", uuid::Uuid::new_v4().simple()))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut nodes = Vec::new();
    for ((name, listener), grpc_addr) in names.iter().zip(grpc).zip(addrs) {
        let emulated = emulator
            .node(name)
            .cloned()
            .ok_or_else(|| std::io::Error::other("unknown node"))?;
        let config = NodeConfig {
            name: (*name).to_owned(),
            postgres: None,
            db_path: emulated.db_path,
            litefs_api: Some(emulated.api_url),
            mount_dir: Some(emulated.dir),
            grpc_addr,
            http_addr: "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            endpoints: endpoints.clone(),
            secret: secret.clone(),
            // The emulator's `<db>-pos` is not LiteFS's TXID: wait by the ledger row.
            txid_wait: false,
            sqlite_synchronous: None,
            stop_on_stdin_close: false,
            report_commits: true,
        };
        nodes.push(node::start_on(config, listener, metrics.clone()).await?);
    }
    Ok(LocalCluster { nodes, emulator })
}
