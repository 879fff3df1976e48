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
use blog_example::{console, local_durability, process_cluster, tour};
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
    let lag = replication_lag();
    let synchronous = local_durability::local_cluster_synchronous(|k| std::env::var(k).ok())?;
    let cluster = process_cluster::start(
        &program,
        dir.path(),
        &["node-1", "node-2", "node-3"],
        lag,
        synchronous,
    )
    .await?;
    println!(
        "emulated replication lag: {} ms (LOCAL_CLUSTER_LAG_MS to change)",
        lag.as_millis()
    );
    println!(
        "SQLite synchronous: {} ({}=full to fsync every commit; {})",
        local_durability::flag_value(synchronous).to_uppercase(),
        local_durability::ENV,
        if synchronous == local_durability::DEFAULT {
            "the files are removed on exit, so a commit need only survive a node crashing"
        } else {
            "chosen by the environment"
        }
    );
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

/// The emulator's replication lag: `LOCAL_CLUSTER_LAG_MS` milliseconds, else
/// [`DEFAULT_LAG`].
fn replication_lag() -> Duration {
    std::env::var("LOCAL_CLUSTER_LAG_MS")
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map_or(DEFAULT_LAG, Duration::from_millis)
}

/// The local cluster's replication lag by default. Every write through a replica waits for
/// its own replication (read your writes), so one connection completes at most one write
/// per lag: the lag caps a replica's writes at `connections / (lag + a few ms)` (at 20 ms
/// and 32 connections, ~1,450 a second). Real LiteFS streams a transaction to replicas as
/// soon as it commits (a few milliseconds on a LAN); 5 ms keeps the lag visible (a read on
/// another node right after a write can miss it) without making it the main cost.
const DEFAULT_LAG: Duration = Duration::from_millis(5);

async fn run_tour(database_path: Option<std::path::PathBuf>) -> Result<(), Box<dyn Error>> {
    let temp = tempfile::tempdir()?;
    let path = database_path.unwrap_or_else(|| temp.path().join("blog.db"));
    tour::run(&path).await
}

/// How long the runtime waits for its blocking threads once the command is done. One of
/// them may be blocked reading a terminal (tokio reads standard input on a blocking thread,
/// which only a line or the input's end frees): Ctrl-C must not wait for Enter.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(run());
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    code
}

async fn run() -> ExitCode {
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
