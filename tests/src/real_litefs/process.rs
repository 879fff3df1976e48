//! One LiteFS process: its `litefs.yml`, FUSE mount, data directory and log. Started with
//! `litefs mount`; stopped with SIGINT (SIGKILL after a grace period) and unmounted in every
//! case, also when it is dropped because a test failed.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::install::on_path;

/// How long a stopping LiteFS gets before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// Who holds the static lease: every node's config names the same primary.
#[derive(Debug, Clone)]
pub struct StaticLease {
    /// The primary's hostname (`lease.hostname`).
    pub hostname: String,
    /// The primary's LiteFS HTTP URL (`lease.advertise-url`).
    pub advertise_url: String,
}

/// One LiteFS node on 127.0.0.1.
#[derive(Debug)]
pub struct LiteFsProcess {
    /// The node's hostname, as the lease names it.
    pub name: String,
    /// The FUSE mount (`fuse.dir`): databases are opened here.
    pub mount: PathBuf,
    /// The node's HTTP API port on 127.0.0.1.
    pub port: u16,
    data: PathBuf,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl LiteFsProcess {
    /// Prepares (does not start) node `name` under `root`, its API on `port`.
    pub fn new(root: &Path, name: &str, port: u16) -> io::Result<Self> {
        let home = root.join(name);
        let (mount, data) = (home.join("mnt"), home.join("data"));
        std::fs::create_dir_all(&mount)?;
        std::fs::create_dir_all(&data)?;
        Ok(Self {
            name: name.to_owned(),
            mount,
            port,
            data,
            config: home.join("litefs.yml"),
            log: home.join("litefs.log"),
            child: None,
        })
    }

    /// The node's HTTP API, e.g. `http://127.0.0.1:20202`.
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A database file in the mount.
    pub fn db_path(&self, db: &str) -> PathBuf {
        self.mount.join(db)
    }

    /// Writes the config for `lease` and starts `litefs mount`.
    pub fn start(&mut self, bin: &Path, lease: &StaticLease) -> io::Result<()> {
        self.stop();
        std::fs::write(&self.config, self.config_yaml(lease))?;
        let log = File::options().create(true).append(true).open(&self.log)?;
        let child = Command::new(bin)
            .arg("mount")
            .arg("-config")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// `exit-on-error: true`: a failure at start (its port taken, say) ends the process at
    /// once, instead of LiteFS waiting for a signal unmounted.
    fn config_yaml(&self, lease: &StaticLease) -> String {
        format!(
            "fuse:\n  dir: \"{mount}\"\ndata:\n  dir: \"{data}\"\nhttp:\n  addr: \"127.0.0.1:{port}\"\n\
             lease:\n  type: \"static\"\n  hostname: \"{host}\"\n  advertise-url: \"{url}\"\n  \
             candidate: {candidate}\nexit-on-error: true\n",
            mount = self.mount.display(),
            data = self.data.display(),
            port = self.port,
            host = lease.hostname,
            url = lease.advertise_url,
            candidate = lease.hostname == self.name,
        )
    }

    /// Whether the process has exited (or never started).
    pub fn exited(&mut self) -> bool {
        match &mut self.child {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Whether the FUSE mount is mounted.
    pub fn is_mounted(&self) -> bool {
        let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
            return false;
        };
        let mount = self.mount.to_string_lossy();
        mounts
            .lines()
            .filter_map(|line| line.split(' ').nth(4))
            .any(|point| unescape_mount_point(point) == mount)
    }

    /// What the process has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops the process (SIGINT, then SIGKILL after a grace period) and unmounts.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            interrupt(&child);
            let until = Instant::now() + STOP_GRACE;
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            if matches!(child.try_wait(), Ok(None)) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        if self.is_mounted() {
            self.unmount();
        }
    }

    /// Lazily unmounts a mount its process left behind.
    fn unmount(&self) {
        let tool = on_path("fusermount3").or_else(|| on_path("fusermount"));
        let done = tool.is_some_and(|tool| {
            Command::new(tool)
                .arg("-uz")
                .arg(&self.mount)
                .status()
                .is_ok_and(|s| s.success())
        });
        if !done {
            let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
        }
    }
}

/// A mount point as `/proc/self/mountinfo` writes it, with `\040` for a space, `\011` for a
/// tab, `\012` for a newline and `\134` for a backslash.
fn unescape_mount_point(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Sends SIGINT: LiteFS unmounts and exits cleanly on it.
fn interrupt(child: &Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
    }
}

impl Drop for LiteFsProcess {
    fn drop(&mut self) {
        self.stop();
    }
}
