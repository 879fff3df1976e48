//! The read-your-writes wait: how much a forwarded write waits beyond the replication lag.
//!
//! One primary and one replica (read-only file, filled by the emulator's replicator with a
//! fixed lag). Forwarded inserts alternate between `Consistency::ReadYourWrites` (waits for
//! the ledger row to arrive locally) and `Consistency::Eventual` (returns at commit).
//! Reported: p50/p99 of both, and the wait beyond the lag (RYW − eventual − lag).
//!
//! Run: `cargo bench -p repo-tests --bench consistency` (`ROUNDS=…`, `LAG_MS=…`).

use std::time::{Duration, Instant};

use blog_example::entities::tag;
use repo_core::Consistency;
use repo_litefs::OnLag;
use repo_tests::cluster::{Cluster, Replication};
use sea_orm::Set;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len().saturating_sub(1))]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(500);
    let lag_ms: u64 = std::env::var("LAG_MS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let lag = Duration::from_millis(lag_ms);
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
    let mut ryw = Vec::new();
    let mut eventual = Vec::new();
    for i in 0..rounds {
        for consistency in [Consistency::ReadYourWrites, Consistency::Eventual] {
            let t = Instant::now();
            replica
                .insert(tag::ActiveModel {
                    name: Set(format!("{i}-{consistency:?}")),
                    ..Default::default()
                })
                .consistency(consistency)
                .await
                .expect("write");
            match consistency {
                Consistency::ReadYourWrites => ryw.push(t.elapsed()),
                Consistency::Eventual => eventual.push(t.elapsed()),
            }
        }
    }
    ryw.sort();
    eventual.sort();
    println!("forwarded insert, replication lag {lag_ms} ms, {rounds} calls each, interleaved");
    for (name, s) in [("read-your-writes", &ryw), ("eventual", &eventual)] {
        println!(
            "{name:<18} p50 {:>7.2} ms  p99 {:>7.2} ms",
            ms(percentile(s, 0.5)),
            ms(percentile(s, 0.99))
        );
    }
    for p in [0.5, 0.99] {
        let extra = percentile(&ryw, p).saturating_sub(percentile(&eventual, p));
        println!(
            "p{:<2} wait {:.2} ms = lag {lag_ms} ms + {:.2} ms",
            (p * 100.0) as u32,
            ms(extra),
            ms(extra) - lag_ms as f64
        );
    }
}
