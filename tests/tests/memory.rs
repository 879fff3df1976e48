//! Memory under sustained forwarding: 32 writers on a replica forward inserts (with
//! read-your-writes) to the primary on real LiteFS, the primary's ledger pruned every 5 s
//! to 30 s of rows, while this process's RSS (both nodes' stacks, the writers, the
//! runtime; LiteFS runs in processes of its own) is sampled every few seconds.
//!
//! Three checks:
//! - the ledger is pruned: at the end it holds no more rows than were written in the last
//!   `LEDGER_WINDOW` (the 30 s kept + the 5 s between prunes + slack). A ledger never
//!   pruned grows on disk, not in RSS (SQLite's page cache is bounded), so no RSS check can
//!   see it; this one fails with the pruner off;
//! - no growth per write: the least-squares slope of RSS against writes done over the last
//!   half of the run stays under `MAX_BYTES_PER_WRITE`;
//! - no growth at all: RSS at the end is at most the highest RSS of the middle third plus
//!   max(16 MiB, 25 %) (a coarse bound: alone it missed a 1 KiB-per-write leak).
//!
//! `MEMORY_SECS` sets the duration (600 for the 10-minute curve in docs/BENCHMARKS.md),
//! `MEMORY_SAMPLE_SECS` the sampling period (default 3).
//!
//! Run: `MEMORY_SECS=600 cargo test -p repo-tests --test memory -- --nocapture`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use repo_litefs::ledger::PruneConfig;
use repo_tests::real_litefs::{LiteFsCluster, StackOptions, Stacks};
use repo_tests::rss::{RssCurve, RssSample, rss_kib};
use repo_tests::write_script::new_tag;

const WRITERS: usize = 32;
const MIB: u64 = 1024;
/// Rows older than this must have been pruned (30 s kept, pruned every 5 s, 10 s slack).
const LEDGER_WINDOW: Duration = Duration::from_secs(45);
/// The most RSS growth per write tolerated over the last half of the run, in bytes.
const MAX_BYTES_PER_WRITE: f64 = 512.0;

fn env_secs(name: &str, default: f64) -> Duration {
    Duration::from_secs_f64(
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_levels_off_under_sustained_forwarding() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&["node-1", "node-2"]).await else {
        return;
    };
    let Some(_) = rss_kib() else {
        eprintln!("skipped: no /proc/self/status here");
        return;
    };
    let run = env_secs("MEMORY_SECS", 75.0);
    let every = env_secs("MEMORY_SAMPLE_SECS", 3.0);
    let options = StackOptions {
        prune: Some(
            PruneConfig::default()
                .max_age(Duration::from_secs(30))
                .every(Duration::from_secs(5)),
        ),
        ..StackOptions::default()
    };
    let stacks = Stacks::start_with(&cluster, options).await;
    let repo = stacks.node("node-2").repo.clone();
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let until = started + run;
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (repo, done) = (repo.clone(), done.clone());
        writers.push(tokio::spawn(async move {
            let mut n = 0_u64;
            while Instant::now() < until {
                repo.insert(new_tag(&format!("w{w}-{n}")))
                    .await
                    .expect("forwarded");
                done.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    let mut curve = RssCurve::default();
    while Instant::now() < until {
        curve.samples.push(RssSample {
            at: started.elapsed(),
            kib: rss_kib().unwrap_or(0),
            done: done.load(Ordering::Relaxed),
        });
        tokio::time::sleep(every.min(until.saturating_duration_since(Instant::now()))).await;
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    curve.samples.push(RssSample {
        at: started.elapsed(),
        kib: rss_kib().unwrap_or(0),
        done: done.load(Ordering::Relaxed),
    });
    println!("{} writers, {:?}, load average {}", WRITERS, run, loadavg());
    println!("{}", curve.table());
    if let Some(per_write) = curve.bytes_per_unit_since(run / 3) {
        println!("RSS growth from t = run/3 to the end: {per_write:.1} bytes per write");
    }
    let middle = curve
        .max_between(run / 3, run * 2 / 3)
        .expect("samples in the middle third");
    let end = curve.last().map(|s| s.kib).unwrap_or(0);
    let margin = (16 * MIB).max(middle / 4);
    println!(
        "middle-third max {:.1} MiB, end {:.1} MiB, allowed {:.1} MiB",
        middle as f64 / 1024.0,
        end as f64 / 1024.0,
        (middle + margin) as f64 / 1024.0
    );
    let ledger_rows = ledger_rows(&stacks.node("node-1").db).await;
    let total = done.load(Ordering::Relaxed);
    let window_start = run.saturating_sub(LEDGER_WINDOW);
    let before_window = curve
        .samples
        .iter()
        .rev()
        .find(|s| s.at <= window_start)
        .map_or(0, |s| s.done);
    let recent = total - before_window.min(total);
    println!(
        "ledger rows at the end {ledger_rows}; writes in the last {LEDGER_WINDOW:?}: {recent} \
         (of {total})"
    );
    let slope = slope_bytes_per_write(&curve, run / 2);
    println!("RSS slope over the last half: {slope:.1} bytes per write");
    stacks.close().await;
    cluster.shutdown().await;
    assert!(
        ledger_rows <= recent,
        "the ledger was not pruned: {ledger_rows} rows, {recent} writes in the last {LEDGER_WINDOW:?}"
    );
    assert!(
        slope <= MAX_BYTES_PER_WRITE,
        "RSS grew by {slope:.0} bytes per write over the last half of the run"
    );
    assert!(
        end <= middle + margin,
        "RSS kept growing under a steady load: {middle} KiB in the middle third, {end} KiB at the end"
    );
}

/// Rows in the primary's ledger.
async fn ledger_rows(db: &sea_orm::DatabaseConnection) -> u64 {
    use sea_orm::ConnectionTrait;
    let count = sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) FROM litefs_ledger",
    );
    let row = db
        .query_one_raw(count)
        .await
        .expect("count the ledger")
        .expect("a count");
    let n: i64 = row.try_get_by_index(0).expect("an integer");
    u64::try_from(n).unwrap_or(0)
}

/// The least-squares slope of RSS (bytes) against writes done, over the samples taken at or
/// after `from`; 0 with fewer than three samples or no writes among them.
fn slope_bytes_per_write(curve: &RssCurve, from: Duration) -> f64 {
    let points: Vec<(f64, f64)> = curve
        .samples
        .iter()
        .filter(|s| s.at >= from)
        .map(|s| (s.done as f64, s.kib as f64 * 1024.0))
        .collect();
    let n = points.len() as f64;
    if points.len() < 3 {
        return 0.0;
    }
    let (mx, my) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx == 0.0 { 0.0 } else { sxy / sxx }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}
