//! A Jepsen-style test on the emulator: writers on every node (through replicas, and on
//! whichever node is the primary) while a nemesis promotes another node or kills one
//! (restarting it a round later) every 0.5–2 s, abruptly (never a handover). Every call and
//! its answer go into a history, checked against the final primary's table: with
//! `Durability::Candidates` no acknowledged write is lost and none duplicated; with
//! `Durability::Primary` the loss is measured (docs/RELIABILITY.md). Run with
//! `--nocapture` to see each run's figures; `JEPSEN_SEED` replays a nemesis schedule.
//!
//! The CI runs use 20 rounds every 0.5–1 s; the `#[ignore]`d long runs use 0.5–2 s.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use repo_core::{Durability, Repo};
use repo_tests::emulated_cluster::{ACCOUNTS, ClusterSpec, EmulatedCluster, Schema};
use repo_tests::history::{Answer, History, Verdict};
use repo_tests::history_row;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Set, Statement};

/// Writer tasks per node.
const TASKS: usize = 3;

/// One run's settings.
#[derive(Debug, Clone, Copy)]
struct Run {
    durability: Durability,
    schema: Schema,
    rounds: usize,
    /// Milliseconds between two faults, lowest and highest.
    every: (u64, u64),
}

/// A small deterministic generator (SplitMix64), so a schedule can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, from: &'a [String]) -> Option<&'a String> {
        let len = u64::try_from(from.len()).ok()?;
        from.get(usize::try_from(self.below(len)).ok()?)
    }
}

fn seed() -> u64 {
    std::env::var("JEPSEN_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

/// Writes `<node>-<task>-<seq>` rows until `stop`, recording every answer.
async fn write(
    repo: Repo,
    node: String,
    task: usize,
    history: Arc<History>,
    stop: Arc<AtomicBool>,
) {
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let key = format!("{node}-{task}-{seq}");
        let account = i64::try_from(seq).unwrap_or(0) % ACCOUNTS;
        let result = repo
            .insert(history_row::ActiveModel {
                key: Set(key.clone()),
                account_id: Set(Some(account)),
                ..Default::default()
            })
            .timeout(Duration::from_secs(3))
            .await;
        tracing::debug!(%key, ok = result.is_ok(), "jepsen: answered");
        history.record(key, Answer::of(&result));
        seq += 1;
    }
}

/// Promotes or kills abruptly, every `run.every`, `run.rounds` times; restarts a killed
/// node at the next round.
async fn nemesis(cluster: &EmulatedCluster, run: Run, rng: &mut Rng) -> Vec<String> {
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    let mut killed: Vec<String> = Vec::new();
    let mut log = Vec::new();
    for _ in 0..run.rounds {
        let (low, high) = run.every;
        tokio::time::sleep(Duration::from_millis(low + rng.below(high - low + 1))).await;
        for node in killed.drain(..) {
            cluster.emulator.restart(&node);
            log.push(format!("restart {node}"));
        }
        let primary = cluster.emulator.primary();
        let others: Vec<String> = names.iter().filter(|n| **n != primary).cloned().collect();
        let Some(target) = rng.pick(&others).cloned() else {
            continue;
        };
        match rng.below(3) {
            0 => {
                let behind = behind(cluster, &primary, &target).await;
                cluster.emulator.promote(&target).expect("promote");
                log.push(format!("promote {target} ({behind} rows behind)"));
            }
            1 => {
                let behind = behind(cluster, &primary, &target).await;
                cluster.emulator.kill(&primary);
                cluster.emulator.promote(&target).expect("promote");
                killed.push(primary.clone());
                log.push(format!(
                    "kill {primary}, promote {target} ({behind} rows behind)"
                ));
            }
            _ => {
                cluster.emulator.kill(&target);
                killed.push(target.clone());
                log.push(format!("kill {target}"));
            }
        }
    }
    for node in killed {
        cluster.emulator.restart(&node);
        log.push(format!("restart {node}"));
    }
    log
}

/// How many rows `target` lacks of `primary`'s, just before a fault (what a promotion of
/// `target` can lose, plus what commits meanwhile).
async fn behind(cluster: &EmulatedCluster, primary: &str, target: &str) -> i64 {
    let count = |name: &str| {
        let name = name.to_owned();
        async move {
            let db = cluster.open(&name).await;
            let sql =
                Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) FROM history_rows");
            // A busy file makes the figure unknown (-1), never the test fail.
            match db.query_one_raw(sql).await {
                Ok(Some(row)) => row.try_get_by_index::<i64>(0).unwrap_or(-1),
                _ => -1,
            }
        }
    };
    count(primary).await - count(target).await
}

async fn keys(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    history_row::Entity::find()
        .all(db)
        .await
        .expect("rows")
        .into_iter()
        .map(|r| r.key)
        .collect()
}

async fn scalar(db: &sea_orm::DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DbBackend::Sqlite, sql))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("an integer")
}

/// Runs writers and the nemesis, then checks the history against the final primary.
async fn jepsen(run: Run) -> Verdict {
    if std::env::var("RUST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let seed = seed();
    let mut rng = Rng(seed);
    let mut cluster = EmulatedCluster::start(ClusterSpec {
        nodes: 3,
        lag: Duration::from_millis(5),
        durability: run.durability,
        schema: run.schema,
    })
    .await;
    let history = Arc::new(History::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for node in &cluster.nodes {
        for task in 0..TASKS {
            writers.push(tokio::spawn(write(
                node.repo().clone(),
                node.name.clone(),
                task,
                history.clone(),
                stop.clone(),
            )));
        }
    }
    let log = nemesis(&cluster, run, &mut rng).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.expect("writer");
    }
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    if std::env::var("JEPSEN_KEEP_NODES").is_err() {
        cluster.stop_nodes().await;
    }
    if !cluster.emulator.wait_synced(Duration::from_secs(20)).await {
        let positions: Vec<String> = names
            .iter()
            .map(|n| {
                format!(
                    "{n}: {:?} lease={}",
                    cluster.emulator.position(n),
                    cluster.emulator.may_commit(n)
                )
            })
            .collect();
        panic!(
            "seed {seed}: the cluster did not converge after the faults; primary {}; {}; \
             faults: {}",
            cluster.emulator.primary(),
            positions.join(", "),
            log.join("; ")
        );
    }
    let primary = cluster.emulator.primary();
    let db = cluster.open(&primary).await;
    let rows = keys(&db).await;
    let verdict = history.check(&rows);
    println!(
        "jepsen {:?} {:?} seed={seed}: {} calls, {} acknowledged, {} lost, {} duplicated, \
         {} rows on {primary}; errors {:?}; faults: {}",
        run.durability,
        run.schema,
        verdict.calls,
        verdict.acknowledged,
        verdict.lost.len(),
        verdict.duplicated.len(),
        rows.len(),
        verdict.errors,
        log.join("; "),
    );
    // Every node holds what the primary holds.
    for name in &names {
        let theirs = keys(&cluster.open(name).await).await;
        assert_eq!(theirs.len(), rows.len(), "{name} converged");
    }
    if run.schema == Schema::Relational {
        let counted = scalar(&db, "SELECT COALESCE(SUM(writes), 0) FROM accounts").await;
        let viewed = scalar(&db, "SELECT COALESCE(SUM(n), 0) FROM writes_per_account").await;
        let orphans = scalar(
            &db,
            "SELECT COUNT(*) FROM history_rows WHERE account_id NOT IN (SELECT id FROM accounts)",
        )
        .await;
        let total = i64::try_from(rows.len()).unwrap_or(-1);
        assert_eq!(counted, total, "the trigger counted every row");
        assert_eq!(viewed, total, "the view sees every row");
        assert_eq!(orphans, 0, "every foreign key holds");
        let check = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await
            .expect("integrity_check")
            .expect("a row")
            .try_get_by_index::<String>(0)
            .expect("text");
        assert_eq!(check, "ok");
    }
    assert!(verdict.acknowledged > 0, "some writes were acknowledged");
    assert!(
        verdict.duplicated.is_empty(),
        "duplicated: {:?}",
        verdict.duplicated
    );
    assert!(
        verdict.phantom.is_empty(),
        "said not committed, present: {:?}",
        verdict.phantom
    );
    assert!(
        verdict.unknown.is_empty(),
        "present, never written: {:?}",
        verdict.unknown
    );
    verdict
}

/// One cluster at a time: the runs share two cores, and a starved run measures nothing.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn candidates(schema: Schema, every: (u64, u64)) {
    let _one = SERIAL.lock().await;
    let verdict = jepsen(Run {
        durability: Durability::Candidates,
        schema,
        rounds: 20,
        every,
    })
    .await;
    assert!(
        verdict.lost.is_empty(),
        "acknowledged and lost: {:?}",
        verdict.lost
    );
}

async fn primary(schema: Schema, every: (u64, u64)) {
    let _one = SERIAL.lock().await;
    jepsen(Run {
        durability: Durability::Primary,
        schema,
        rounds: 20,
        every,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_lose_and_duplicate_nothing_acknowledged() {
    candidates(Schema::Plain, (500, 1000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_with_foreign_keys_a_trigger_and_a_view() {
    candidates(Schema::Relational, (500, 1000)).await;
}

/// Measures: acknowledged writes lost with `Durability::Primary` (printed; asserts only
/// that nothing is duplicated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_durability_loss_is_measured() {
    primary(Schema::Plain, (500, 1000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 20 faults every 0.5-2 s; run with --ignored"]
async fn long_candidates_plain() {
    candidates(Schema::Plain, (500, 2000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 20 faults every 0.5-2 s; run with --ignored"]
async fn long_candidates_relational() {
    candidates(Schema::Relational, (500, 2000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 20 faults every 0.5-2 s; run with --ignored"]
async fn long_primary_plain() {
    primary(Schema::Plain, (500, 2000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: 20 faults every 0.5-2 s; run with --ignored"]
async fn long_primary_relational() {
    primary(Schema::Relational, (500, 2000)).await;
}
