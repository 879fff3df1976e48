//! `blog-example`: the blog on the repository.
//!
//! - `blog-example` or `blog-example cluster`: a local three-node cluster on 127.0.0.1 over
//!   the LiteFS emulator; prints each node's URL and which is the primary; runs until Ctrl-C.
//! - `blog-example node`: one node of a real LiteFS deployment (`deploy/`), configured by
//!   flags or environment variables (`blog-example node --help` lists both).
//! - `blog-example tour [DATABASE_PATH]`: a single-node tour of the repository API.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use blog_example::cli::{self, CliError, Invocation};
use blog_example::node::{self, NodeConfig};
use blog_example::{local_cluster, tour};

async fn run_node(config: NodeConfig) -> Result<(), Box<dyn Error>> {
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

async fn run_tour(database_path: Option<std::path::PathBuf>) -> Result<(), Box<dyn Error>> {
    let temp = tempfile::tempdir()?;
    let path = database_path.unwrap_or_else(|| temp.path().join("blog.db"));
    tour::run(&path).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let invocation = match cli::parse(std::env::args_os(), |name| std::env::var(name).ok()) {
        Ok(invocation) => invocation,
        Err(CliError::Usage(e)) => e.exit(),
        Err(e) => {
            eprintln!("error: {e}\n\nFor more information, try 'blog-example node --help'.");
            return ExitCode::from(2);
        }
    };
    let result = match invocation {
        Invocation::Cluster => run_cluster().await,
        Invocation::Tour { database_path } => run_tour(database_path).await,
        Invocation::Node(config) => run_node(*config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
