//! One PostgreSQL server: its data directory, port and log, started and stopped with
//! `pg_ctl`; stopped (immediate mode) when dropped.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::cluster::PgError;
use super::install::PgInstall;

/// One PostgreSQL server on 127.0.0.1 (TCP only: no Unix socket).
#[derive(Debug)]
pub struct PgServer {
    /// `primary` or `standby`, for messages.
    pub name: String,
    /// The data directory (owned by the server user).
    pub data: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// The server's log file (`pg_ctl -l`).
    log: PathBuf,
    /// How to run `pg_ctl`.
    pub(crate) install: PgInstall,
    /// Whether the server is running (and must be stopped when dropped).
    running: bool,
}

impl PgServer {
    /// A server (not started) over `data`, listening on `port`, logging to `log`.
    pub(crate) fn new(
        name: &str,
        data: PathBuf,
        port: u16,
        log: PathBuf,
        install: PgInstall,
    ) -> Self {
        Self {
            name: name.to_owned(),
            data,
            port,
            log,
            install,
            running: false,
        }
    }

    /// The URL of database `postgres` as superuser `postgres` (trust authentication on
    /// loopback).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&mut self) -> Result<(), PgError> {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            self.port
        );
        let output = self
            .install
            .command("pg_ctl")
            .arg("start")
            .arg("-w")
            .arg("-t")
            .arg("60")
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .arg("-o")
            .arg(options)
            .output()
            .map_err(|e| PgError::Spawn("pg_ctl start", e))?;
        self.running = true;
        self.check("pg_ctl start", output)
    }

    /// Promotes this standby to primary (`pg_ctl promote`, waiting until it is done).
    pub fn promote(&mut self) -> Result<(), PgError> {
        let output = self
            .install
            .command("pg_ctl")
            .args(["promote", "-w", "-t", "60", "-D"])
            .arg(&self.data)
            .output()
            .map_err(|e| PgError::Spawn("pg_ctl promote", e))?;
        self.check("pg_ctl promote", output)
    }

    /// Stops the server at once (`-m immediate`: as a crash would).
    pub fn stop(&mut self) -> Result<(), PgError> {
        self.stop_in("immediate")
    }

    /// Stops the server cleanly (`-m fast`: sessions end, and its standbys receive
    /// everything up to its shutdown checkpoint before it exits), as before a switchover.
    pub fn stop_fast(&mut self) -> Result<(), PgError> {
        self.stop_in("fast")
    }

    fn stop_in(&mut self, mode: &str) -> Result<(), PgError> {
        if !self.running {
            return Ok(());
        }
        let output = self
            .install
            .command("pg_ctl")
            .args(["stop", "-w", "-t", "60", "-m", mode, "-D"])
            .arg(&self.data)
            .output()
            .map_err(|e| PgError::Spawn("pg_ctl stop", e))?;
        self.running = false;
        self.check("pg_ctl stop", output)
    }

    /// The `primary_conninfo` value that streams from `upstream`.
    fn conninfo(upstream: &PgServer) -> String {
        format!("host=127.0.0.1 port={} user=postgres", upstream.port)
    }

    /// Points this running standby at `upstream` (its new primary, after a promotion):
    /// `primary_conninfo` changed and reloaded; it follows the new timeline
    /// (`recovery_target_timeline` is `latest` by default). `ALTER SYSTEM`, since
    /// `pg_basebackup -R` wrote the old one into `postgresql.auto.conf`, which wins.
    pub fn follow(&self, upstream: &PgServer) -> Result<(), PgError> {
        self.psql(&format!(
            "ALTER SYSTEM SET primary_conninfo = '{}'",
            Self::conninfo(upstream)
        ))?;
        self.psql("SELECT pg_reload_conf()").map(drop)
    }

    /// Starts this stopped server as a standby of `upstream` (a demoted primary rejoining:
    /// `standby.signal`, `primary_conninfo`), and waits until it accepts connections.
    pub fn start_as_standby_of(&mut self, upstream: &PgServer) -> Result<(), PgError> {
        let signal = self.data.join("standby.signal");
        std::fs::write(&signal, b"").map_err(|e| PgError::Setup(format!("standby.signal: {e}")))?;
        self.install.hand_over(&signal).map_err(PgError::Setup)?;
        std::fs::OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.conf"))
            .and_then(|mut f| {
                std::io::Write::write_all(
                    &mut f,
                    format!("\nprimary_conninfo = '{}'\n", Self::conninfo(upstream)).as_bytes(),
                )
            })
            .map_err(|e| PgError::Setup(format!("postgresql.conf: {e}")))?;
        self.start()
    }

    /// Appends `settings` to the server's `postgresql.conf` and reloads it (`pg_ctl reload`;
    /// for settings that take effect on reload, such as a standby's
    /// `recovery_min_apply_delay`).
    pub fn configure(&self, settings: &str) -> Result<(), PgError> {
        std::fs::OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.conf"))
            .and_then(|mut f| {
                std::io::Write::write_all(&mut f, format!("\n{settings}\n").as_bytes())
            })
            .map_err(|e| PgError::Setup(format!("postgresql.conf: {e}")))?;
        let output = self
            .install
            .command("pg_ctl")
            .args(["reload", "-D"])
            .arg(&self.data)
            .output()
            .map_err(|e| PgError::Spawn("pg_ctl reload", e))?;
        self.check("pg_ctl reload", output)
    }

    /// Runs one SQL command with `psql` and returns its unaligned output, trimmed.
    pub fn psql(&self, sql: &str) -> Result<String, PgError> {
        let output = self
            .install
            .command("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(self.url())
            .arg("-c")
            .arg(sql)
            .output()
            .map_err(|e| PgError::Spawn("psql", e))?;
        if !output.status.success() {
            return Err(PgError::Failed {
                what: "psql",
                server: self.name.clone(),
                output: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Polls `sql` (bounded, 30 s) until it prints `expected`.
    ///
    /// # Panics
    ///
    /// If it never does, with the end of the server's log.
    pub fn wait_for(&self, sql: &str, expected: &str) {
        for _ in 0..600 {
            if self.psql(sql).is_ok_and(|out| out == expected) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "`{sql}` on {} never printed {expected}:\n{}",
            self.name,
            self.log_tail()
        );
    }

    /// The end of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }

    fn check(&self, what: &'static str, output: Output) -> Result<(), PgError> {
        if output.status.success() {
            return Ok(());
        }
        Err(PgError::Failed {
            what,
            server: self.name.clone(),
            output: format!(
                "{}{}\n--- log ---\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                self.log_tail()
            ),
        })
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// The last 40 lines of `path` (empty when it cannot be read).
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
