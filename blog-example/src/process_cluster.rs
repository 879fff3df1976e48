//! The local cluster as processes: the LiteFS emulator in this process, and each node a
//! `blog-example node` child process of its own, so that each node has its own metrics, its
//! own logs and its own fate (what `blog-example cluster` runs).
//!
//! The children are started one after the other, the primary first (it creates the
//! schema), each with a fixed endpoint map naming the others' forwarding ports. A child
//! reports its web address on its first line of standard output; the rest of its output is
//! passed through. Children are killed when the cluster is dropped, and stop by themselves
//! when this process's end of their standard input closes (if this process is killed).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use repo_litefs::emulator::{EmulatorError, LiteFsEmulator};
use sea_orm::sqlx::sqlite::SqliteSynchronous;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

use crate::local_durability::flag_value;

/// How long a node may take to start and report its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running local cluster of node processes.
#[derive(Debug)]
pub struct ProcessCluster {
    /// The nodes, in start order; the first is the primary.
    pub nodes: Vec<ChildNode>,
    /// The emulator standing in for LiteFS.
    pub emulator: LiteFsEmulator,
}

/// One node's process.
#[derive(Debug)]
pub struct ChildNode {
    /// The node's name (its LiteFS hostname).
    pub name: String,
    /// Where its web application listens.
    pub http_addr: SocketAddr,
    /// Its database file (`None` on PostgreSQL).
    pub db_path: Option<PathBuf>,
    /// The process; killed when this is dropped.
    child: Child,
}

impl ChildNode {
    /// The process id, if the process is still running.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// Why the cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProcessClusterError {
    /// The emulator failed.
    #[error(transparent)]
    Emulator(#[from] EmulatorError),
    /// A port could not be reserved or a process not started.
    #[error("cannot start a node process: {0}")]
    Io(#[from] std::io::Error),
    /// A node exited or stayed silent instead of reporting its address.
    #[error("node {name} did not start: {reason}")]
    NodeDidNotStart {
        /// The node.
        name: String,
        /// What happened.
        reason: String,
    },
}

/// Starts the emulator for `names` under `dir` with `lag` of replication, then one
/// `program node` process per name; the first name is the primary. The nodes open their
/// files with `synchronous` (see [`crate::local_durability`]).
pub async fn start(
    program: &Path,
    dir: &Path,
    names: &[&str],
    lag: Duration,
    synchronous: SqliteSynchronous,
) -> Result<ProcessCluster, ProcessClusterError> {
    let emulator = LiteFsEmulator::start(dir, names, "blog.db", lag).await?;
    // Reserve a forwarding port per node, so that every node can name the others'. The
    // ports are free again between here and the node binding them: a race no other local
    // program is likely to win in that instant.
    let mut grpc = Vec::new();
    for _ in names {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        grpc.push(listener.local_addr()?);
    }
    let endpoints = names
        .iter()
        .zip(&grpc)
        .map(|(name, addr)| format!("{name}=http://{addr}"))
        .collect::<Vec<_>>()
        .join(",");
    let secret = format!("local-{}", uuid::Uuid::new_v4().simple());
    let mut nodes = Vec::new();
    for (name, grpc_addr) in names.iter().zip(grpc) {
        let emulated = emulator
            .node(name)
            .cloned()
            .ok_or_else(|| std::io::Error::other(format!("the emulator has no {name}")))?;
        let spec = NodeSpec {
            name: (*name).to_owned(),
            db_path: emulated.db_path,
            litefs_api: emulated.api_url,
            litefs_dir: emulated.dir,
            grpc_addr,
            synchronous: Some(synchronous),
        };
        nodes.push(spawn_node(program, spec, &endpoints, &secret).await?);
    }
    Ok(ProcessCluster { nodes, emulator })
}

/// Where one node process finds its LiteFS and listens (emulated or real LiteFS alike).
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// The node's name (its LiteFS hostname).
    pub name: String,
    /// Its database file, in the LiteFS mount.
    pub db_path: PathBuf,
    /// Its LiteFS HTTP API.
    pub litefs_api: String,
    /// The LiteFS mount (for `.lag`).
    pub litefs_dir: PathBuf,
    /// SQLite's `synchronous` on its file (`None`: the node's default, `FULL`).
    pub synchronous: Option<SqliteSynchronous>,
    /// Where its forwarding server listens.
    pub grpc_addr: SocketAddr,
}

/// Starts `program node` for `spec`, with `endpoints` (`NAME=URL,…`, every node's
/// forwarding address) and the cluster `secret`; returns once it reports its web address.
/// Its log goes to this process's standard error after `NAME |`.
///
/// # Errors
///
/// The process could not start, or exited or stayed silent instead of reporting.
pub async fn spawn_node(
    program: &Path,
    spec: NodeSpec,
    endpoints: &str,
    secret: &str,
) -> Result<ChildNode, ProcessClusterError> {
    let command = node_command(program, &spec, endpoints);
    spawn(command, spec.name, Some(spec.db_path), secret).await
}

/// The `program node …` command line for `spec` (the secret is added by [`spawn`]).
fn node_command(program: &Path, spec: &NodeSpec, endpoints: &str) -> Command {
    let mut command = Command::new(program);
    command
        .arg("node")
        .args(["--node-name", &spec.name])
        .arg("--database-path")
        .arg(&spec.db_path)
        .args(["--litefs-api", &spec.litefs_api])
        .arg("--litefs-dir")
        .arg(&spec.litefs_dir)
        .args(["--grpc-addr", &spec.grpc_addr.to_string()])
        .args(["--endpoints", endpoints])
        .arg("--local-cluster-child");
    if let Some(synchronous) = spec.synchronous {
        command.args(["--sqlite-synchronous", flag_value(synchronous)]);
    }
    command
}

/// Where one node process on PostgreSQL finds its server and listens.
#[derive(Debug, Clone)]
pub struct PostgresNodeSpec {
    /// The node's name (as the endpoints name it).
    pub name: String,
    /// Its own PostgreSQL server: the primary or a streaming standby.
    pub database_url: String,
    /// The name of the node next to the primary server.
    pub primary: String,
    /// Where its forwarding server listens.
    pub grpc_addr: SocketAddr,
}

/// Starts `program node --database-url ...` for `spec`, as [`spawn_node`] does for LiteFS
/// (the URL passes in `DATABASE_URL`, out of `ps`); returns once it reports its web
/// address.
///
/// # Errors
///
/// The process could not start, or exited or stayed silent instead of reporting.
pub async fn spawn_postgres_node(
    program: &Path,
    spec: PostgresNodeSpec,
    endpoints: &str,
    secret: &str,
) -> Result<ChildNode, ProcessClusterError> {
    let mut command = Command::new(program);
    command
        .arg("node")
        .args(["--node-name", &spec.name])
        .args(["--primary-name", &spec.primary])
        .args(["--grpc-addr", &spec.grpc_addr.to_string()])
        .args(["--endpoints", endpoints])
        .arg("--local-cluster-child")
        .env("DATABASE_URL", &spec.database_url);
    spawn(command, spec.name, None, secret).await
}

/// Runs `command` (a `node` with its settings) with the web application on a free port,
/// and waits for its address.
async fn spawn(
    mut command: Command,
    name: String,
    db_path: Option<PathBuf>,
    secret: &str,
) -> Result<ChildNode, ProcessClusterError> {
    let mut child = command
        .args(["--http-addr", "127.0.0.1:0"])
        .env("CLUSTER_SECRET", secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(prefix_lines(stderr, format!("{name} |")));
    }
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| std::io::Error::other("the node's standard output was not captured"))?;
    let http_addr = match tokio::time::timeout(START_TIMEOUT, first_address(stdout)).await {
        Ok(Ok(addr)) => addr,
        Ok(Err(reason)) => return Err(ProcessClusterError::NodeDidNotStart { name, reason }),
        Err(_) => {
            return Err(ProcessClusterError::NodeDidNotStart {
                name,
                reason: format!("no address reported within {START_TIMEOUT:?}"),
            });
        }
    };
    Ok(ChildNode {
        name,
        http_addr,
        db_path,
        child,
    })
}

/// Copies a node's log to this process's standard error, each line after `prefix`, so that
/// the nodes' logs can be told apart.
async fn prefix_lines(stderr: tokio::process::ChildStderr, prefix: String) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("{prefix} {line}");
    }
}

/// Reads the node's output until it says `serving http://ADDR`; passes the rest through.
async fn first_address(stdout: ChildStdout) -> Result<SocketAddr, String> {
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => return Err("it exited (its log above says why)".to_owned()),
            Err(e) => return Err(format!("its output is unreadable: {e}")),
        };
        println!("{line}");
        if let Some(addr) = serving_address(&line) {
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    println!("{line}");
                }
            });
            return Ok(addr);
        }
    }
}

/// The address in a node's `... serving http://ADDR ...` line.
fn serving_address(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("serving http://")?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{NodeSpec, node_command, serving_address};
    use sea_orm::sqlx::sqlite::SqliteSynchronous;

    /// The arguments `spec`'s node process is started with.
    fn args(synchronous: Option<SqliteSynchronous>) -> Vec<String> {
        let spec = NodeSpec {
            name: "node-1".to_owned(),
            db_path: "/tmp/n1/blog.db".into(),
            litefs_api: "http://127.0.0.1:1".to_owned(),
            litefs_dir: "/tmp/n1".into(),
            grpc_addr: "127.0.0.1:2".parse().expect("addr"),
            synchronous,
        };
        let command = node_command(std::path::Path::new("blog-example"), &spec, "node-1=x");
        command
            .as_std()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_node_process_gets_the_clusters_synchronous() {
        let off = args(Some(SqliteSynchronous::Off));
        let at = off.iter().position(|a| a == "--sqlite-synchronous");
        assert_eq!(
            at.and_then(|i| off.get(i + 1)).map(String::as_str),
            Some("off")
        );
        let full = args(Some(SqliteSynchronous::Full));
        assert!(
            full.windows(2)
                .any(|w| w == ["--sqlite-synchronous", "full"])
        );
        assert!(!args(None).iter().any(|a| a == "--sqlite-synchronous"));
    }

    #[test]
    fn reads_the_address_from_a_nodes_first_line() {
        assert_eq!(
            serving_address("node-1 (primary) serving http://127.0.0.1:4000 (forwarding on x)"),
            Some("127.0.0.1:4000".parse().expect("addr"))
        );
        assert_eq!(serving_address("starting"), None);
    }
}
