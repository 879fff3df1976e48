//! Whether PostgreSQL can run here: Debian's binaries, and an unprivileged user to run them
//! as when the tests run as root (PostgreSQL refuses to run as root).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Set (to anything but empty or `0`) to make a missing PostgreSQL a failure, not a skip.
pub const REQUIRE_VAR: &str = "CI_REQUIRE_POSTGRES";

/// Names the directory of PostgreSQL's binaries, overriding Debian's.
pub const BIN_DIR_VAR: &str = "PG_BIN_DIR";

/// Debian's `postgresql-15` binaries.
const DEBIAN_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";

/// The user the servers run as when the tests run as root.
pub const SERVER_USER: &str = "repotest";

const INSTALL: &str = "install Debian's `postgresql` package (`apt-get install postgresql`, \
    as .ci/run does)";

/// How the harness runs PostgreSQL's programs.
#[derive(Debug, Clone)]
pub struct PgInstall {
    /// The directory of `initdb`, `pg_ctl`, `pg_basebackup`, `psql`.
    pub bin_dir: PathBuf,
    /// The user to run them as (`runuser -u`), when the tests run as root.
    pub run_as: Option<String>,
}

impl PgInstall {
    /// A command running PostgreSQL's `program` (as [`PgInstall::run_as`] when set).
    pub fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(path);
                c
            }
            None => Command::new(path),
        };
        command.stdin(Stdio::null());
        command
    }

    /// Gives `path` to the server user (when there is one), so the servers can write it.
    pub fn hand_over(&self, path: &Path) -> Result<(), String> {
        let Some(user) = &self.run_as else {
            return Ok(());
        };
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:{user}"))
            .arg(path)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !status.success() {
            return Err(format!("chown {} to {user} failed", path.display()));
        }
        Ok(())
    }
}

/// Finds PostgreSQL's binaries and, as root, the server user (created if missing).
pub fn find() -> Result<PgInstall, String> {
    let bin_dir = std::env::var_os(BIN_DIR_VAR)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEBIAN_BIN_DIR));
    for program in ["initdb", "pg_ctl", "pg_basebackup", "psql", "postgres"] {
        if !bin_dir.join(program).is_file() {
            return Err(format!("no `{program}` in {}", bin_dir.display()));
        }
    }
    let run_as = if is_root() {
        ensure_user(SERVER_USER)?;
        Some(SERVER_USER.to_owned())
    } else {
        None
    };
    Ok(PgInstall { bin_dir, run_as })
}

/// What to run PostgreSQL with; `None` after printing why the test is skipped, or a panic
/// when [`REQUIRE_VAR`] is set.
pub fn require() -> Option<PgInstall> {
    match find() {
        Ok(install) => Some(install),
        Err(reason) if required() => {
            panic!(
                "PostgreSQL is required ({REQUIRE_VAR} is set) but cannot run: {reason}; {INSTALL}"
            )
        }
        Err(reason) => {
            // Straight to stderr: the test harness swallows `eprintln!` of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "skipping: PostgreSQL cannot run here: {reason}; {INSTALL}"
            );
            None
        }
    }
}

/// Whether [`REQUIRE_VAR`] is set to anything but empty or `0`.
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Creates the system user `user` unless it exists (another test may create it at the same
/// time: "already exists" is success).
fn ensure_user(user: &str) -> Result<(), String> {
    if nix::unistd::User::from_name(user).ok().flatten().is_some() {
        return Ok(());
    }
    let output = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
        ])
        .arg(user)
        .output()
        .map_err(|e| format!("useradd: {e}"))?;
    // 9: the user exists (created meanwhile).
    if output.status.success() || output.status.code() == Some(9) {
        return Ok(());
    }
    Err(format!(
        "useradd {user} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}
