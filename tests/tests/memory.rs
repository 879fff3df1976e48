//! Memory under sustained forwarding: 32 writers on a replica forward inserts (with
//! read-your-writes) to the primary on real LiteFS, the primary's ledger pruned every 5 s
//! to 30 s of rows, while this process's RSS (both nodes' stacks, the writers, the
//! runtime; LiteFS runs in processes of its own) is sampled every few seconds.
//!
//! The check: RSS at the end is at most the highest RSS of the middle third plus
//! max(16 MiB, 25 %). It is meant not to flake (allocator noise and a growing page cache
//! stay well inside the margin) and therefore only catches leaks of about 4 KiB per write or
//! more in the default 75 s run (at the ~160 writes/s of a debug build on a busy 2-core
//! machine); smaller ones show in the long run's curve, which also prints the growth per
//! write. `MEMORY_SECS` sets the duration (600 for the 10-minute curve in
//! docs/BENCHMARKS.md), `MEMORY_SAMPLE_SECS` the sampling period (default 3).
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
    stacks.close().await;
    cluster.shutdown().await;
    assert!(
        end <= middle + margin,
        "RSS kept growing under a steady load: {middle} KiB in the middle third, {end} KiB at the end"
    );
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .trim()
        .to_owned()
}
