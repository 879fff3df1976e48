//! `blog-example`: the blog on the repository.
//!
//! - `blog-example` or `blog-example cluster`: a local three-node cluster on 127.0.0.1 over
//!   the LiteFS emulator; prints each node's URL and which is the primary; runs until Ctrl-C.
//! - `blog-example node`: one node, configured by environment variables (see `--help`), for
//!   a real LiteFS deployment (`deploy/`).
//! - `blog-example tour [DATABASE_PATH]`: a single-node tour of the repository API.

use std::error::Error;
use std::time::Duration;

use blog_example::node::{self, NodeConfig};
use blog_example::{local_cluster, tour};
use repo_litefs::{ClusterSecret, Endpoints};

const HELP: &str = "usage: blog-example [cluster | node | tour [DATABASE_PATH] | --help]

cluster (default)  three nodes on 127.0.0.1 over the LiteFS emulator, until Ctrl-C
tour               a single-node tour of the repository API on a SQLite file
node               one node; configured by environment variables:
  NODE_NAME           this node's hostname as LiteFS names it (default: $HOSTNAME)
  DATABASE_PATH       the database file in the LiteFS mount (default /litefs/blog.db)
  LITEFS_API          the local LiteFS HTTP API (default http://127.0.0.1:20202)
  LITEFS_DIR          the LiteFS mount, for .primary when there is no API (optional)
  GRPC_ADDR           forwarding server address (default 0.0.0.0:50051)
  HTTP_ADDR           web address (default 0.0.0.0:8080)
  ENDPOINT_TEMPLATE   how to reach a node's forwarding server (default http://{hostname}:50051)
  CLUSTER_SECRET      shared by every node, at least 16 characters (required)";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn run_node() -> Result<(), Box<dyn Error>> {
    let secret = std::env::var("CLUSTER_SECRET")
        .map_err(|_| "CLUSTER_SECRET is required (at least 16 characters)")?;
    let config = NodeConfig {
        name: std::env::var("NODE_NAME")
            .or_else(|_| std::env::var("HOSTNAME"))
            .map_err(|_| "set NODE_NAME (or HOSTNAME)")?,
        db_path: env_or("DATABASE_PATH", "/litefs/blog.db").into(),
        litefs_api: Some(env_or("LITEFS_API", "http://127.0.0.1:20202")),
        mount_dir: std::env::var("LITEFS_DIR").ok().map(Into::into),
        grpc_addr: env_or("GRPC_ADDR", "0.0.0.0:50051")
            .parse()
            .map_err(|e| format!("GRPC_ADDR: {e}"))?,
        http_addr: env_or("HTTP_ADDR", "0.0.0.0:8080")
            .parse()
            .map_err(|e| format!("HTTP_ADDR: {e}"))?,
        endpoints: Endpoints::template(env_or("ENDPOINT_TEMPLATE", "http://{hostname}:50051")),
        secret: ClusterSecret::new(secret)?,
    };
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok();
    let node = node::start(config, metrics).await?;
    println!(
        "{} ({}) serving http://{} (forwarding on {})",
        node.name,
        if node.primary { "primary" } else { "replica" },
        node.http_addr,
        node.grpc_addr
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

async fn run_cluster() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .ok();
    let cluster = local_cluster::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(20),
        metrics,
    )
    .await?;
    println!(
        "local cluster over the LiteFS emulator (data in {})",
        dir.path().display()
    );
    for node in &cluster.nodes {
        println!(
            "  {:<7} {:<8} http://{}",
            node.name,
            if node.primary { "primary" } else { "replica" },
            node.http_addr
        );
    }
    println!(
        "open a replica's URL, write a post and a comment, and see them on every node. Ctrl-C stops."
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("cluster") => run_cluster().await,
        Some("node") => run_node().await,
        Some("tour") => {
            let temp = tempfile::tempdir()?;
            let path = args
                .get(1)
                .map_or_else(|| temp.path().join("blog.db"), Into::into);
            tour::run(&path).await
        }
        Some("--help" | "-h" | "help") => {
            println!("{HELP}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{HELP}").into()),
    }
}
