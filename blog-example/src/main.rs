//! `blog-example`: the blog on the repository.
//!
//! - `blog-example` or `blog-example cluster`: a local three-node cluster on 127.0.0.1 over
//!   the LiteFS emulator; prints each node's URL and which is the primary; runs until Ctrl-C.
//! - `blog-example node`: one node of a real LiteFS deployment (`deploy/`), or with
//!   `--database-url postgres://…` of PostgreSQL streaming replicas, configured by flags or
//!   environment variables (`blog-example node --help` lists both).
//! - `blog-example tour [DATABASE_PATH]`: a single-node tour of the repository API.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use blog_example::cli::{self, CliError, Invocation};
use blog_example::node::{self, NodeConfig};
use blog_example::observability::{logging, metrics};
use blog_example::{console, process_cluster, tour};
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

async fn run_node(config: NodeConfig) -> Result<(), Box<dyn Error>> {
    let metrics = match metrics::install(&config.name) {
        Ok(handle) => Some(handle),
        Err(e) => {
            tracing::warn!(error = %e, "no metrics: the recorder could not be installed");
            None
        }
    };
    match (&config.postgres, &config.litefs_api) {
        (Some(postgres), _) => {
            tracing::info!(node = %config.name, primary = %postgres.primary, "starting on PostgreSQL: reading the server's role");
        }
        (None, Some(api)) => {
            tracing::info!(node = %config.name, litefs_api = %api, "starting: waiting for LiteFS to name the primary");
        }
        (None, None) => {}
    }
    let stop_on_stdin_close = config.stop_on_stdin_close;
    let node = node::start(config, metrics).await?;
    let role = if node.node.tracker().is_primary() {
        "primary"
    } else {
        "replica"
    };
    println!(
        "{} ({role}) serving http://{} (forwarding on {})",
        node.name, node.http_addr, node.grpc_addr
    );
    tracing::info!(node = %node.name, role, http = %node.http_addr, grpc = %node.grpc_addr, "serving");
    if stop_on_stdin_close {
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            () = stdin_closed() => tracing::info!("the local cluster closed standard input; stopping"),
        }
    } else {
        tokio::signal::ctrl_c().await?;
    }
    Ok(())
}

/// Returns once standard input reaches its end (or fails).
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0u8; 64];
    while matches!(stdin.read(&mut buffer).await, Ok(n) if n > 0) {}
}

async fn run_cluster() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let program = std::env::current_exe()?;
    println!(
        "local cluster over the LiteFS emulator; data in {} (removed on exit)",
        dir.path().display()
    );
    let cluster = process_cluster::start(
        &program,
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(20),
    )
    .await?;
    let primary = cluster.emulator.primary();
    for node in &cluster.nodes {
        println!(
            "  {:<7} {:<8} http://{}  (pid {})",
            node.name,
            if node.name == primary {
                "primary"
            } else {
                "replica"
            },
            node.http_addr,
            node.pid().map_or_else(|| "?".to_owned(), |p| p.to_string()),
        );
    }
    println!(
        "open a replica's URL, write a post and a comment, and see them on every node. Ctrl-C stops."
    );
    println!(
        "fail over while it runs: type a command here ({})",
        console::HELP
    );
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            result = tokio::signal::ctrl_c() => return Ok(result?),
            line = lines.next_line() => match line {
                Ok(Some(line)) => match console::Command::parse(&line) {
                    Ok(Some(command)) => println!("{}", command.run(&cluster.emulator).await),
                    Ok(None) => {}
                    Err(message) => println!("{message}"),
                },
                // The terminal closed: keep serving until Ctrl-C.
                Ok(None) | Err(_) => {
                    tokio::signal::ctrl_c().await?;
                    return Ok(());
                }
            },
        }
    }
}

async fn run_tour(database_path: Option<std::path::PathBuf>) -> Result<(), Box<dyn Error>> {
    let temp = tempfile::tempdir()?;
    let path = database_path.unwrap_or_else(|| temp.path().join("blog.db"));
    tour::run(&path).await
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init(
        std::env::var("RUST_LOG").ok().as_deref(),
        logging::LogFormat::from_variable(std::env::var(logging::FORMAT_VARIABLE).ok().as_deref()),
    );
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
            tracing::error!(error = %e, "stopped");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
