//! A primary and a streaming standby: `initdb` for the primary, `pg_basebackup -R` (which
//! writes `standby.signal` and `primary_conninfo`) for the standby, each on a free loopback
//! port, in one temporary directory removed when the cluster is dropped (servers first).

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use super::install::{self, PgInstall};
use super::server::PgServer;

/// Why the cluster could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// A program could not be started.
    #[error("{0}: {1}")]
    Spawn(&'static str, #[source] std::io::Error),
    /// A program failed.
    #[error("{what} failed on the {server}: {output}")]
    Failed {
        /// The program.
        what: &'static str,
        /// `primary` or `standby`.
        server: String,
        /// What it printed (and the end of the server's log).
        output: String,
    },
    /// The temporary directory or a port.
    #[error("setting up: {0}")]
    Setup(String),
    /// The standby did not start streaming in time.
    #[error("the standby is not streaming after {0:?}")]
    NotStreaming(Duration),
}

/// A primary and a streaming standby of it. Dropping it stops both and removes their
/// files. Field order matters: the servers stop before the directory goes.
#[derive(Debug)]
pub struct PgCluster {
    /// The primary (`initdb`).
    pub primary: PgServer,
    /// The standby (`pg_basebackup -R` from the primary, hot standby).
    pub standby: PgServer,
    /// More standbys of the primary ([`PgCluster::add_standby`]).
    pub more: Vec<PgServer>,
    /// The directory holding both data directories and logs.
    dir: tempfile::TempDir,
}

/// Settings for short-lived test servers on a small machine.
const SETTINGS: &str = "
fsync = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 40
wal_level = replica
max_wal_senders = 5
hot_standby = on
wal_receiver_status_interval = 1s
hot_standby_feedback = on
log_min_messages = warning
";

impl PgCluster {
    /// Starts a cluster, or returns `None` after saying why it is skipped (a panic when
    /// [`install::REQUIRE_VAR`] is set). A cluster that fails to start is a panic.
    pub fn start_or_skip() -> Option<Self> {
        let install = install::require()?;
        match Self::start(install) {
            Ok(cluster) => Some(cluster),
            Err(e) => panic!("PostgreSQL is installed but the test cluster failed: {e}"),
        }
    }

    /// Sets up and starts the primary, then the standby, and waits until it streams.
    pub fn start(install: PgInstall) -> Result<Self, PgError> {
        let dir = tempfile::Builder::new()
            .prefix("repo-pg-")
            .tempdir()
            .map_err(|e| PgError::Setup(e.to_string()))?;
        install.hand_over(dir.path()).map_err(PgError::Setup)?;
        let ports = free_ports(2).map_err(|e| PgError::Setup(e.to_string()))?;
        let primary_data = dir.path().join("primary");
        initdb(&install, &primary_data)?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(primary_data.join("postgresql.conf"))
            .and_then(|mut f| std::io::Write::write_all(&mut f, SETTINGS.as_bytes()))
            .map_err(|e| PgError::Setup(format!("postgresql.conf: {e}")))?;
        let mut primary = PgServer::new(
            "primary",
            primary_data,
            ports[0],
            dir.path().join("primary.log"),
            install.clone(),
        );
        primary.start()?;
        let standby_data = dir.path().join("standby");
        basebackup(&install, &primary, &standby_data)?;
        let mut standby = PgServer::new(
            "standby",
            standby_data,
            ports[1],
            dir.path().join("standby.log"),
            install,
        );
        standby.start()?;
        let cluster = Self {
            primary,
            standby,
            more: Vec::new(),
            dir,
        };
        cluster.wait_streaming(Duration::from_secs(60))?;
        Ok(cluster)
    }

    /// Adds another streaming standby of the primary (`standby-2`, ...) and waits until
    /// it streams; it is `self.more`'s last.
    pub fn add_standby(&mut self) -> Result<&PgServer, PgError> {
        let n = self.more.len() + 2;
        let port = free_ports(1).map_err(|e| PgError::Setup(e.to_string()))?[0];
        let data = self.dir.path().join(format!("standby-{n}"));
        basebackup(&self.primary.install, &self.primary, &data)?;
        let mut standby = PgServer::new(
            &format!("standby-{n}"),
            data,
            port,
            self.dir.path().join(format!("standby-{n}.log")),
            self.primary.install.clone(),
        );
        standby.start()?;
        self.more.push(standby);
        self.wait_streaming(Duration::from_secs(60))?;
        Ok(&self.more[self.more.len() - 1])
    }

    /// Waits until the standby has replayed everything the primary had written when this
    /// was called.
    pub fn wait_replayed(&self, within: Duration) -> Result<(), PgError> {
        let target = self.primary.psql("SELECT pg_current_wal_lsn()")?;
        let start = Instant::now();
        loop {
            let done = self.standby.psql(&format!(
                "SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
            ))?;
            if done == "t" {
                return Ok(());
            }
            if start.elapsed() > within {
                return Err(PgError::NotStreaming(within));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the primary reports the standby as streaming.
    pub fn wait_streaming(&self, within: Duration) -> Result<(), PgError> {
        let start = Instant::now();
        loop {
            let state = self
                .primary
                .psql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")?;
            if state == (1 + self.more.len()).to_string() {
                return Ok(());
            }
            if start.elapsed() > within {
                return Err(PgError::NotStreaming(within));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn initdb(install: &PgInstall, data: &Path) -> Result<(), PgError> {
    let output = install
        .command("initdb")
        .args([
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
            "-D",
        ])
        .arg(data)
        .output()
        .map_err(|e| PgError::Spawn("initdb", e))?;
    if !output.status.success() {
        return Err(PgError::Failed {
            what: "initdb",
            server: "primary".into(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

fn basebackup(install: &PgInstall, primary: &PgServer, data: &Path) -> Result<(), PgError> {
    let output = install
        .command("pg_basebackup")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "--no-sync",
        ])
        .arg("-p")
        .arg(primary.port.to_string())
        .arg("-D")
        .arg(data)
        .output()
        .map_err(|e| PgError::Spawn("pg_basebackup", e))?;
    if !output.status.success() {
        return Err(PgError::Failed {
            what: "pg_basebackup",
            server: "standby".into(),
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

/// `n` distinct ports the system considers free right now on 127.0.0.1.
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}
