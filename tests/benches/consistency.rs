//! The read-your-writes wait: how long a forwarded write waits, after the primary's answer,
//! for its own row to replicate here, beyond the replication lag.
//!
//! One primary and one replica (read-only file, filled by the emulator's replicator with a
//! fixed lag). Forwarded inserts with `Consistency::ReadYourWrites` (waits for the ledger
//! row to arrive locally) and `Consistency::Eventual` (returns at commit), interleaved in
//! ABBA order, `REPS` repetitions (default 5) of `ROUNDS` calls each. The wait is measured
//! per call, directly: each read-your-writes call records its own wait in
//! `litefs_consistency_wait_seconds`, read here through a debugging recorder; "beyond the
//! lag" is that wait minus the configured lag, call by call. Each figure is the median
//! over the repetitions with its min–max.
//!
//! What the wait beyond the lag holds: the replicator noticing the commit and copying its
//! pages, plus the replica noticing the row (it polls its database every millisecond).
//!
//! Run: `cargo bench -p repo-tests --bench consistency` (`REPS=…`, `ROUNDS=…`, `LAG_MS=…`).

use std::time::{Duration, Instant};

use blog_example::entities::tag;
use metrics_util::debugging::DebuggingRecorder;
use repo_core::Consistency;
use repo_litefs::OnLag;
use repo_tests::cluster::{Cluster, Replication};
use sea_orm::Set;

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;
#[path = "common/waits.rs"]
mod waits;
use waits::waits;

use support::measure::{Spread, env_count, load_average, percentile_of};

#[tokio::main]
async fn main() {
    let reps = env_count("REPS", 5).max(1);
    let rounds = env_count("ROUNDS", 300).max(1);
    let lag_ms = env_count("LAG_MS", 5);
    let lag = Duration::from_millis(lag_ms);
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("the only recorder");
    let cluster = Cluster::start_replicated(
        1,
        Replication {
            lag,
            wait: Duration::from_secs(5),
            on_lag: OnLag::Fail,
        },
    )
    .await;
    let replica = &cluster.replica(1).repo;
    println!("load average before: {}", load_average());
    let mut figures: Vec<[f64; 4]> = Vec::new();
    for rep in 0..reps {
        let _ = waits(&snapshotter);
        let mut ryw = Vec::new();
        let mut eventual = Vec::new();
        for i in 0..rounds {
            // ABBA: which variant goes first alternates call by call.
            let order = if i % 2 == 0 {
                [Consistency::ReadYourWrites, Consistency::Eventual]
            } else {
                [Consistency::Eventual, Consistency::ReadYourWrites]
            };
            for consistency in order {
                let t = Instant::now();
                replica
                    .insert(tag::ActiveModel {
                        name: Set(format!("{rep}-{i}-{consistency:?}")),
                        ..Default::default()
                    })
                    .consistency(consistency)
                    .await
                    .expect("write");
                let took = t.elapsed().as_secs_f64() * 1e3;
                match consistency {
                    Consistency::ReadYourWrites => ryw.push(took),
                    Consistency::Eventual => eventual.push(took),
                }
            }
        }
        let beyond: Vec<f64> = waits(&snapshotter)
            .into_iter()
            .map(|wait| wait - lag_ms as f64)
            .collect();
        assert_eq!(beyond.len() as u64, rounds, "one recorded wait per call");
        figures.push([
            percentile_of(ryw.clone(), 0.5),
            percentile_of(eventual.clone(), 0.5),
            percentile_of(beyond.clone(), 0.5),
            percentile_of(beyond.clone(), 0.99),
        ]);
    }
    println!("load average after:  {}", load_average());
    let column = |i: usize| Spread::of(figures.iter().map(|f| f[i]).collect()).show(2);
    println!(
        "forwarded insert, replication lag {lag_ms} ms, {rounds} calls per variant and \
         repetition, ABBA; median over {reps} repetitions (min–max), ms"
    );
    println!("read-your-writes call p50   {}", column(0));
    println!("eventual call p50           {}", column(1));
    println!("wait beyond the lag, p50    {}", column(2));
    println!("wait beyond the lag, p99    {}", column(3));
}
