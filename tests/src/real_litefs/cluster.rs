//! Three (or more) LiteFS processes on one machine with a static lease: separate mounts and
//! data directories, distinct HTTP ports on 127.0.0.1. `start` returns once every node is
//! mounted, the primary holds the lease and each replica is connected to it.
//!
//! Across regions ([`LiteFsCluster::start_or_skip_across`]): each node's HTTP API gets a
//! [`Proxy`] with a one-way delay, and the lease's advertise-url names the primary's proxy,
//! so every byte of LiteFS's replication (the replicas' streams, HALT lock requests, the
//! LTX files a HALT writer ships back) crosses the delay both ways. [`super::Stacks`]
//! started on such a cluster route their gRPC forwarding through delayed proxies too.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use repo_litefs::tracker::{PrimaryTracker, TrackerConfig};
use tempfile::TempDir;

use super::install;
use super::process::{LiteFsProcess, StaticLease};
use crate::proxy::Proxy;

/// How long a node gets to mount and connect.
const READY_WAIT: Duration = Duration::from_secs(30);

/// Why a LiteFS cluster did not come up.
#[derive(Debug, thiserror::Error)]
pub enum LiteFsError {
    /// A file, directory, port or process could not be set up.
    #[error("LiteFS setup: {0}")]
    Io(#[from] std::io::Error),
    /// A node did not become ready in time; its log says why.
    #[error("LiteFS node {node} was not ready after {waited:?} ({reason}); its log:\n{log}")]
    NotReady {
        /// The node's name.
        node: String,
        /// How long it was waited for.
        waited: Duration,
        /// What was still missing.
        reason: String,
        /// What the process printed.
        log: String,
    },
}

/// A running LiteFS cluster; stops and unmounts every node when dropped.
#[derive(Debug)]
pub struct LiteFsCluster {
    /// The nodes, in the order their names were given.
    pub nodes: Vec<LiteFsProcess>,
    primary: usize,
    bin: PathBuf,
    http: reqwest::Client,
    /// Across regions: one delayed proxy per node, in front of its HTTP API.
    links: Vec<Proxy>,
    _dir: TempDir,
}

impl LiteFsCluster {
    /// Starts `names.len()` nodes with `names[0]` as the static primary, or `None` (after
    /// printing why) when LiteFS cannot run here; see [`install::require`].
    pub async fn start_or_skip(names: &[&str]) -> Option<Self> {
        Self::start_or_skip_linked(names, None).await
    }

    /// Like [`LiteFsCluster::start_or_skip`], the nodes a region apart: `one_way` is added
    /// to every byte between any two of them, each way (the round trip is twice that).
    pub async fn start_or_skip_across(names: &[&str], one_way: Duration) -> Option<Self> {
        Self::start_or_skip_linked(names, Some(one_way)).await
    }

    async fn start_or_skip_linked(names: &[&str], one_way: Option<Duration>) -> Option<Self> {
        let bin = install::require()?;
        Some(
            Self::start_linked(&bin, names, one_way)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        )
    }

    /// Starts `names.len()` nodes of `bin` with `names[0]` as the static primary. Ports are
    /// chosen again (up to three times) when one was taken before LiteFS could bind it.
    pub async fn start(bin: &Path, names: &[&str]) -> Result<Self, LiteFsError> {
        Self::start_linked(bin, names, None).await
    }

    /// Like [`LiteFsCluster::start`], with `one_way` between nodes when given.
    pub async fn start_linked(
        bin: &Path,
        names: &[&str],
        one_way: Option<Duration>,
    ) -> Result<Self, LiteFsError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(bin, names, one_way).await {
                Err(LiteFsError::NotReady { ref log, .. })
                    if attempt < 3 && log.contains("address already in use") => {}
                other => return other,
            }
        }
    }

    async fn start_once(
        bin: &Path,
        names: &[&str],
        one_way: Option<Duration>,
    ) -> Result<Self, LiteFsError> {
        let dir = tempfile::Builder::new().prefix("litefs-").tempdir()?;
        // The mount as /proc/self/mountinfo shows it: no symlinks on the way.
        let root = dir.path().canonicalize()?;
        let ports = free_ports(names.len())?;
        let mut nodes = Vec::new();
        let mut links = Vec::new();
        for (name, port) in names.iter().zip(ports) {
            nodes.push(LiteFsProcess::new(&root, name, port)?);
            if let Some(one_way) = one_way {
                links.push(Proxy::with_delay(([127, 0, 0, 1], port).into(), one_way).await);
            }
        }
        let mut cluster = Self {
            nodes,
            primary: 0,
            bin: bin.to_owned(),
            http: reqwest::Client::new(),
            links,
            _dir: dir,
        };
        cluster.launch().await?;
        Ok(cluster)
    }

    /// Stops every node (replicas first) and unmounts, off the async threads.
    pub async fn shutdown(mut self) {
        let nodes = std::mem::take(&mut self.nodes);
        let _ = tokio::task::spawn_blocking(move || {
            for mut node in nodes.into_iter().rev() {
                node.stop();
            }
        })
        .await;
    }

    /// The one-way delay between nodes, if they are a region apart.
    pub fn link_delay(&self) -> Option<Duration> {
        self.links.first().map(Proxy::delay)
    }

    /// Changes the one-way delay between nodes (a cluster started without one keeps none).
    pub fn set_link_delay(&self, one_way: Duration) {
        for link in &self.links {
            link.set_delay(one_way);
        }
    }

    /// The proxies in front of each node's HTTP API (empty unless a region apart), to see
    /// that traffic went through them or to cut them.
    pub fn links(&self) -> &[Proxy] {
        &self.links
    }

    /// The node holding the lease.
    pub fn primary(&self) -> &LiteFsProcess {
        &self.nodes[self.primary]
    }

    /// A primary tracker per node, following that node's `/info` and `/events`.
    pub fn trackers(&self) -> Vec<PrimaryTracker> {
        self.nodes
            .iter()
            .map(|n| {
                PrimaryTracker::spawn(
                    TrackerConfig::new()
                        .api_url(n.api_url())
                        .self_hostname(n.name.clone()),
                )
            })
            .collect()
    }

    /// Stops every node and starts them again with `nodes[primary]` holding the static
    /// lease: the closest a static lease comes to a failover. Data directories are kept.
    pub async fn restart_with_primary(&mut self, primary: usize) -> Result<(), LiteFsError> {
        // Stopping blocks (a grace period per node): keep the runtime's other tasks going.
        tokio::task::block_in_place(|| {
            for node in self.nodes.iter_mut().rev() {
                node.stop();
            }
        });
        self.primary = primary;
        self.launch().await
    }

    async fn launch(&mut self) -> Result<(), LiteFsError> {
        let lease = StaticLease {
            hostname: self.primary().name.clone(),
            advertise_url: match self.links.get(self.primary) {
                Some(link) => format!("http://{}", link.addr),
                None => self.primary().api_url(),
            },
        };
        // The primary first, so that replicas find it at their first attempt.
        let order: Vec<usize> = std::iter::once(self.primary)
            .chain((0..self.nodes.len()).filter(|&i| i != self.primary))
            .collect();
        for &i in &order {
            self.nodes[i].start(&self.bin, &lease)?;
        }
        for &i in &order {
            self.wait_ready(i, &lease.hostname).await?;
        }
        Ok(())
    }

    /// Waits until node `i` answers `/info` with the expected role and primary, is mounted,
    /// and (on a replica) is connected to the primary (`.primary` exists).
    async fn wait_ready(&mut self, i: usize, primary: &str) -> Result<(), LiteFsError> {
        let is_primary = i == self.primary;
        let until = Instant::now() + READY_WAIT;
        loop {
            let node = &mut self.nodes[i];
            let reason: String;
            if node.exited() {
                reason = "the process exited".into();
            } else if !node.is_mounted() {
                reason = "not mounted".into();
            } else if !is_primary && !node.mount.join(".primary").exists() {
                reason = "not connected to the primary (no .primary)".into();
            } else {
                match info(&self.http, &node.api_url()).await {
                    Ok((p, host)) if p == is_primary && host == primary => return Ok(()),
                    Ok((p, host)) => reason = format!("/info says isPrimary={p}, primary={host}"),
                    Err(e) => reason = format!("/info: {e}"),
                }
            }
            if Instant::now() >= until || node.exited() {
                return Err(LiteFsError::NotReady {
                    node: node.name.clone(),
                    waited: READY_WAIT,
                    reason,
                    log: node.log(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// `/info`'s `isPrimary` and `primary.hostname`.
async fn info(http: &reqwest::Client, api: &str) -> Result<(bool, String), String> {
    let body: serde_json::Value = http
        .get(format!("{api}/info"))
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let is_primary = body["isPrimary"].as_bool().ok_or("no isPrimary")?;
    let host = body["primary"]["hostname"].as_str().unwrap_or_default();
    Ok((is_primary, host.to_owned()))
}

/// Below Linux's range for automatic ports (`ip_local_port_range`, 32768 and up by default),
/// so that no socket bound to port 0 meanwhile can take one of these.
const PORTS: std::ops::Range<u16> = 20_000..32_000;

/// `n` distinct ports on 127.0.0.1 that were free a moment ago (LiteFS takes a fixed port in
/// its config), picked at random from [`PORTS`] and held until all are chosen.
fn free_ports(n: usize) -> std::io::Result<Vec<u16>> {
    let mut held = Vec::new();
    let mut tries = 0;
    while held.len() < n {
        tries += 1;
        if tries > 1_000 {
            return Err(std::io::Error::other("no free port found in 1,000 tries"));
        }
        let span = u128::from(PORTS.end - PORTS.start);
        let offset = u16::try_from(uuid::Uuid::new_v4().as_u128() % span).unwrap_or(0);
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", PORTS.start + offset)) {
            held.push(listener);
        }
    }
    held.iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}
