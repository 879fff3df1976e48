//! Measurements, not checks (`#[ignore]`d; run in release with `--ignored --nocapture`):
//! the idle CPU of a three-node emulated cluster of library nodes (trackers, servers,
//! position reporters, the emulator's loops), and the emulator's time from a commit to
//! every replica holding it, at 1k and 50k rows. Figures: docs/BENCHMARKS.md.

use std::time::{Duration, Instant};

use repo_core::Durability;
use repo_litefs::emulator::LiteFsEmulator;
use repo_tests::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};
use sea_orm::{ConnectionTrait, Database};

/// This process's CPU time (user + system), from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let hz = 100; // USER_HZ on Linux
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / hz)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: 55 s"]
async fn idle_cpu_of_a_three_node_cluster() {
    let _cluster = EmulatedCluster::start(ClusterSpec {
        nodes: 3,
        lag: Duration::from_millis(5),
        durability: Durability::Primary,
        schema: Schema::Plain,
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut shares = Vec::new();
    for _ in 0..5 {
        let (cpu, wall) = (cpu_time(), Instant::now());
        tokio::time::sleep(Duration::from_secs(10)).await;
        let used = cpu_time().saturating_sub(cpu).as_secs_f64();
        shares.push(100.0 * used / wall.elapsed().as_secs_f64());
    }
    shares.sort_by(f64::total_cmp);
    println!("idle cluster: {shares:.2?} % of one core over 10 s windows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement"]
async fn commit_to_replicas_at_1k_and_50k_rows() {
    let dir = tempfile::tempdir().expect("dir");
    let emulator = LiteFsEmulator::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        "app.db",
        Duration::ZERO,
    )
    .await
    .expect("emulator");
    let path = emulator.node("node-1").expect("node").db_path.clone();
    let db = Database::connect(format!("sqlite://{}?mode=rw", path.display()))
        .await
        .expect("open");
    db.execute_unprepared(
        "CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at INTEGER NOT NULL)",
    )
    .await
    .expect("table");
    let mut have = 0u64;
    for target in [1_000u64, 50_000] {
        db.execute_unprepared("BEGIN").await.expect("begin");
        while have < target {
            db.execute_unprepared(&format!(
                "INSERT INTO rows (body, at) VALUES ('{}', {have})",
                "x".repeat(100)
            ))
            .await
            .expect("insert");
            have += 1;
        }
        db.execute_unprepared("COMMIT").await.expect("commit");
        assert!(emulator.wait_synced(Duration::from_secs(60)).await);
        let mut times = Vec::new();
        for i in 0..30 {
            db.execute_unprepared(&format!("INSERT INTO rows (body, at) VALUES ('one', {i})"))
                .await
                .expect("insert");
            let started = Instant::now();
            assert!(emulator.wait_synced(Duration::from_secs(60)).await);
            times.push(started.elapsed());
            have += 1;
        }
        times.sort();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        println!(
            "{target} rows ({} KiB): commit to both replicas p50 {:?}, min {:?}, max {:?}",
            size / 1024,
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
    }
}

/// What `Durability::Candidates` costs per write against `Durability::Primary`, on an idle
/// cluster with the emulator's lag at 5 ms: sequential single-row inserts on the primary
/// (local) and through a replica (forwarded, then read-your-writes), the two durabilities
/// interleaved (the order alternates per repetition), 5 repetitions of 40 writes each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement"]
async fn candidates_cost_per_write() {
    use repo_tests::history_row;
    use sea_orm::Set;

    let cluster = EmulatedCluster::start(ClusterSpec {
        nodes: 3,
        lag: Duration::from_millis(5),
        durability: Durability::Primary,
        schema: Schema::Plain,
    })
    .await;
    let p50 = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut seq = 0u64;
    for node in ["node-1", "node-2"] {
        let repo = cluster.node(node).repo().clone();
        let mut ratios = Vec::new();
        let mut medians = Vec::new();
        for rep in 0..5 {
            let order = if rep % 2 == 0 {
                [Durability::Primary, Durability::Candidates]
            } else {
                [Durability::Candidates, Durability::Primary]
            };
            let mut pair = [Duration::ZERO; 2];
            for durability in order {
                let mut took = Vec::new();
                for _ in 0..40 {
                    seq += 1;
                    let started = Instant::now();
                    repo.insert(history_row::ActiveModel {
                        key: Set(format!("cost-{seq}")),
                        ..Default::default()
                    })
                    .durability(durability)
                    .timeout(Duration::from_secs(5))
                    .await
                    .expect("write");
                    took.push(started.elapsed());
                }
                let slot = usize::from(durability == Durability::Candidates);
                pair[slot] = p50(took);
            }
            medians.push(pair);
            ratios.push(pair[1].as_secs_f64() / pair[0].as_secs_f64());
        }
        ratios.sort_by(f64::total_cmp);
        println!(
            "{node}: p50 per repetition (Primary, Candidates) {medians:.2?}; Candidates / \
             Primary {:.2}–{:.2} (median {:.2})",
            ratios[0], ratios[4], ratios[2]
        );
    }
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default()
    );
}
