//! `Replicator`: copies the primary's committed pages to replicas, after a lag.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::pace::{Pace, Wake, change_counter};
use super::pages::{Replica, Snapshot};

/// Replicates one primary file to replica files in the background (see the module docs).
#[derive(Debug)]
pub struct Replicator {
    /// Replicas that receive nothing until healed.
    partitioned: Arc<Mutex<HashSet<String>>>,
    /// Rounds of the loop and who holds what, for [`Replicator::wait_synced`].
    progress: watch::Receiver<Progress>,
    /// Every replica's name.
    names: Vec<String>,
    /// Makes the loop look at the primary at once.
    wake: Wake,
    /// The replication loop; aborted on drop.
    task: JoinHandle<()>,
}

impl Drop for Replicator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What the loop reports after each look at the primary.
#[derive(Debug, Clone, Default)]
struct Progress {
    /// Looks at the primary so far.
    rounds: u64,
    /// Changes seen on the primary so far.
    seen: u64,
    /// The replicas holding every change seen.
    current: HashSet<String>,
}

pub(crate) async fn connect(path: &Path, mode: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode={mode}", path.display()));
    options
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .sqlx_logging(false);
    Database::connect(options).await
}

impl Replicator {
    /// Starts replicating `primary` to each `(name, file)` of `replicas`, `lag` after each
    /// commit. The replicas' files must exist (empty is fine); whatever they hold is
    /// replaced by the primary's pages.
    pub async fn start(
        primary: &Path,
        replicas: Vec<(String, PathBuf)>,
        lag: Duration,
    ) -> Result<Self, DbErr> {
        let source = Snapshot::open(primary).await.map_err(db_err)?;
        let names: Vec<String> = replicas.iter().map(|(n, _)| n.clone()).collect();
        let mut targets = Vec::new();
        for (name, path) in replicas {
            targets.push((name, Replica::open(&path).await.map_err(db_err)?));
        }
        let partitioned = Arc::new(Mutex::new(HashSet::new()));
        let (report, progress) = watch::channel(Progress::default());
        let wake = Wake::default();
        let task = tokio::spawn(run(
            Loop {
                path: primary.to_owned(),
                source,
                targets,
                lag,
                partitioned: partitioned.clone(),
                report,
            },
            Pace::new(wake.clone()),
        ));
        Ok(Self {
            partitioned,
            progress,
            names,
            wake,
            task,
        })
    }

    /// Waits until every replica that is not partitioned has everything the primary had
    /// committed when this was called (bounded by `timeout`); returns whether they did.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let mut progress = self.progress.clone();
        self.wake.wake();
        let start = progress.borrow().rounds;
        let check = async {
            loop {
                let done = {
                    let p = progress.borrow_and_update();
                    // Two looks after this call: the second began after it, so it saw every
                    // commit made before it.
                    let cut_off = self.cut_off();
                    p.rounds >= start + 2
                        && self
                            .names
                            .iter()
                            .all(|n| cut_off.contains(n) || p.current.contains(n))
                };
                if done {
                    return;
                }
                if progress.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, check).await.is_ok()
    }

    /// Stops replication to `replica` (a network partition) until [`Replicator::heal`].
    pub fn partition(&self, replica: &str) {
        if let Ok(mut p) = self.partitioned.lock() {
            p.insert(replica.to_owned());
        }
    }

    /// Resumes replication to `replica`; it catches up at the next look.
    pub fn heal(&self, replica: &str) {
        if let Ok(mut p) = self.partitioned.lock() {
            p.remove(replica);
        }
        self.wake.wake();
    }

    /// Makes the loop look at the primary now (it otherwise looks every few milliseconds
    /// when idle, every millisecond while changes come).
    pub fn wake(&self) {
        self.wake.wake();
    }

    fn cut_off(&self) -> HashSet<String> {
        cut_off(&self.partitioned)
    }
}

fn db_err(e: super::pages::CopyError) -> DbErr {
    DbErr::Custom(e.to_string())
}

/// The replication loop's state.
struct Loop {
    /// The primary's file.
    path: PathBuf,
    /// The primary's pages as last read.
    source: Snapshot,
    /// `(name, file)` of every replica.
    targets: Vec<(String, Replica)>,
    /// Time between a change and its copy.
    lag: Duration,
    /// Replicas cut off.
    partitioned: Arc<Mutex<HashSet<String>>>,
    /// Where progress is reported.
    report: watch::Sender<Progress>,
}

/// How long a failed copy waits before it is tried again.
const RETRY: Duration = Duration::from_millis(100);

async fn run(mut state: Loop, mut pace: Pace) {
    let mut counter = None;
    // Changes seen, each with when it is due on the replicas (`lag` after it was seen).
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::new();
    let mut seen = 0u64;
    // The newest change whose lag has passed.
    let mut due = 0u64;
    let mut applied: HashMap<String, u64> = HashMap::new();
    let mut retry_after: Option<Instant> = None;
    loop {
        let next = pending
            .front()
            .map(|(_, at)| *at)
            .into_iter()
            .chain(retry_after)
            .min();
        pace.wait(next).await;
        let now_counter = change_counter(&state.path);
        if seen == 0 || now_counter != counter {
            // The first look counts as a change: whatever the primary holds must reach
            // the replicas.
            counter = now_counter;
            seen += 1;
            pending.push_back((seen, Instant::now() + state.lag));
            pace.active();
        }
        let now = Instant::now();
        while let Some((change, at)) = pending.front().copied() {
            if at > now {
                break;
            }
            due = change;
            pending.pop_front();
        }
        let cut_off = cut_off(&state.partitioned);
        let behind = due > 0
            && state
                .targets
                .iter()
                .any(|(n, _)| !cut_off.contains(n) && applied.get(n) != Some(&due));
        if behind && retry_after.is_none_or(|t| t <= now) {
            let done = copy_round(&mut state, due, &cut_off, &mut applied).await;
            retry_after = (!done).then(|| Instant::now() + RETRY);
        }
        state.report.send_modify(|p| {
            p.rounds += 1;
            p.seen = seen;
            p.current = applied
                .iter()
                .filter(|(_, v)| **v == seen)
                .map(|(n, _)| n.clone())
                .collect();
        });
    }
}

fn cut_off(partitioned: &Mutex<HashSet<String>>) -> HashSet<String> {
    partitioned.lock().map(|p| p.clone()).unwrap_or_default()
}

/// Reads the primary and brings every connected replica to it, marking them at `due`;
/// returns whether every copy succeeded.
async fn copy_round(
    state: &mut Loop,
    due: u64,
    cut_off: &HashSet<String>,
    applied: &mut HashMap<String, u64>,
) -> bool {
    // No commit guard reports what is written here: the file is compared whole.
    if let Err(e) = state.source.refresh(|_, _| None).await {
        tracing::warn!(error = %e, "replication: reading the primary failed; retrying");
        return false;
    }
    let mut done = true;
    for (name, replica) in &mut state.targets {
        if cut_off.contains(name) {
            continue;
        }
        match replica.copy(&state.source, || true).await {
            Ok(_) => {
                applied.insert(name.clone(), due);
            }
            Err(e) => {
                done = false;
                tracing::warn!(replica = %name, error = %e, "replication copy failed; retrying")
            }
        }
    }
    done
}
