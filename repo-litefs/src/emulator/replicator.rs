//! `Replicator`: copies the primary's committed data to replicas, after a lag.

use std::collections::{HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Replicates one primary file to replica files in the background (see the module docs).
#[derive(Debug)]
pub struct Replicator {
    /// Replicas that receive nothing until healed.
    partitioned: Arc<Mutex<HashSet<String>>>,
    /// `(latest change seen on the primary, replicas that have applied it)`.
    progress: Arc<Mutex<(i64, HashSet<String>)>>,
    /// Every replica's name.
    names: Vec<String>,
    /// Rounds of the replication loop so far, so a waiter knows the loop has looked at the
    /// primary since it started waiting.
    rounds: Arc<AtomicU64>,
    /// The replication loop; aborted on drop.
    task: JoinHandle<()>,
}

impl Drop for Replicator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One replica's file and the connection that writes it.
struct Target {
    name: String,
    conn: DatabaseConnection,
    /// The primary's change counter this replica has applied.
    applied: i64,
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

pub(crate) fn quote_path(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

impl Replicator {
    /// Starts replicating `primary` to each `(name, file)` of `replicas`, `lag` after each
    /// commit. The replicas' files must already hold the primary's schema.
    pub async fn start(
        primary: &Path,
        replicas: Vec<(String, PathBuf)>,
        lag: Duration,
    ) -> Result<Self, DbErr> {
        let source = connect(primary, "ro").await?;
        let mut targets = Vec::new();
        let names: Vec<String> = replicas.iter().map(|(n, _)| n.clone()).collect();
        for (name, path) in replicas {
            let conn = connect(&path, "rw").await?;
            conn.execute_unprepared(&format!("ATTACH DATABASE {} AS src", quote_path(primary)))
                .await?;
            targets.push(Target {
                name,
                conn,
                applied: -1,
            });
        }
        let partitioned = Arc::new(Mutex::new(HashSet::new()));
        let progress = Arc::new(Mutex::new((i64::MIN, HashSet::new())));
        let rounds = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(
            source,
            targets,
            lag,
            partitioned.clone(),
            Progress {
                latest: progress.clone(),
                rounds: rounds.clone(),
            },
        ));
        Ok(Self {
            partitioned,
            progress,
            names,
            rounds,
            task,
        })
    }

    /// Waits until every replica that is not partitioned has everything the primary had
    /// committed when this was called (bounded by `timeout`); returns whether they did.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        // Two rounds of the loop after this call: the second began after it, so it has seen
        // every commit made before it (a fixed sleep is not enough on a busy machine).
        let start = self.rounds.load(Ordering::SeqCst);
        while self.rounds.load(Ordering::SeqCst) < start + 2 {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        loop {
            let cut_off: HashSet<String> = self
                .partitioned
                .lock()
                .map(|p| p.clone())
                .unwrap_or_default();
            let done = self.progress.lock().is_ok_and(|p| {
                self.names
                    .iter()
                    .all(|n| cut_off.contains(n) || p.1.contains(n))
            });
            if done {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Stops replication to `replica` (a network partition) until [`Replicator::heal`].
    pub fn partition(&self, replica: &str) {
        if let Ok(mut p) = self.partitioned.lock() {
            p.insert(replica.to_owned());
        }
    }

    /// Resumes replication to `replica`; it catches up at the next tick.
    pub fn heal(&self, replica: &str) {
        if let Ok(mut p) = self.partitioned.lock() {
            p.remove(replica);
        }
    }
}

/// The primary's change counter: `PRAGMA data_version` moves whenever another connection
/// commits.
pub(crate) async fn version(source: &DatabaseConnection) -> Option<i64> {
    let row = source
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA data_version",
        ))
        .await
        .ok()??;
    row.try_get_by_index(0).ok()
}

/// What the replication loop reports to [`Replicator::wait_synced`].
struct Progress {
    /// `(latest change seen on the primary, replicas that have applied it)`.
    latest: Arc<Mutex<(i64, HashSet<String>)>>,
    /// Rounds completed (each looked at the primary's change counter).
    rounds: Arc<AtomicU64>,
}

async fn run(
    source: DatabaseConnection,
    mut targets: Vec<Target>,
    lag: Duration,
    partitioned: Arc<Mutex<HashSet<String>>>,
    report: Progress,
) {
    let progress = report.latest;
    // Changes seen on the primary, with when they were seen: each becomes visible on the
    // replicas `lag` later.
    let mut changes: VecDeque<(i64, Instant)> = VecDeque::new();
    let mut seen = i64::MIN;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Some(v) = version(&source).await {
            if v != seen {
                seen = v;
                changes.push_back((v, Instant::now()));
                if let Ok(mut p) = progress.lock() {
                    *p = (v, HashSet::new());
                }
            }
            // Only a round that read the counter tells a waiter anything.
            report.rounds.fetch_add(1, Ordering::SeqCst);
        }
        // The newest change old enough to be applied.
        let now = Instant::now();
        let Some(due) = changes
            .iter()
            .rev()
            .find(|(_, at)| now.duration_since(*at) >= lag)
            .map(|(v, _)| *v)
        else {
            continue;
        };
        while changes.front().is_some_and(|(v, _)| *v != due) {
            changes.pop_front();
        }
        let cut_off: HashSet<String> = partitioned.lock().map(|p| p.clone()).unwrap_or_default();
        for target in &mut targets {
            if target.applied == due || cut_off.contains(&target.name) {
                continue;
            }
            match copy(&target.conn).await {
                Ok(()) => {
                    target.applied = due;
                    if let Ok(mut p) = progress.lock()
                        && p.0 == due
                    {
                        p.1.insert(target.name.clone());
                    }
                }
                Err(e) => {
                    tracing::warn!(replica = %target.name, error = %e, "replication copy failed; retrying")
                }
            }
        }
    }
}

/// Copies every table of `src` into the replica, in one transaction: tables and indexes
/// the replica lacks are created first (schema changes replicate too), then every row.
pub(crate) async fn copy(conn: &DatabaseConnection) -> Result<(), DbErr> {
    let missing = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM src.sqlite_master s WHERE s.sql IS NOT NULL \
             AND s.name NOT LIKE 'sqlite_%' \
             AND NOT EXISTS (SELECT 1 FROM main.sqlite_master m WHERE m.name = s.name) \
             ORDER BY s.type = 'index'",
        ))
        .await?;
    let tables = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM src.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        ))
        .await?;
    let mut script = String::from("BEGIN IMMEDIATE;");
    for row in missing {
        let sql: String = row.try_get_by_index(0)?;
        script.push_str(&sql);
        script.push(';');
    }
    for row in tables {
        let name: String = row.try_get_by_index(0)?;
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        script.push_str(&format!(
            "DELETE FROM main.{quoted}; INSERT INTO main.{quoted} SELECT * FROM src.{quoted};"
        ));
    }
    script.push_str("COMMIT;");
    if let Err(e) = conn.execute_unprepared(&script).await {
        let _ = conn.execute_unprepared("ROLLBACK").await;
        return Err(e);
    }
    Ok(())
}
