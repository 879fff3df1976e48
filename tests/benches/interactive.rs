//! Interactive transactions from a replica (issue 16): what one costs against the same
//! work as one round trip, and what an open one costs every other writer.
//!
//! One process, an in-process cluster (`repo_tests::cluster`): node-1 primary, node-2 a
//! replica forwarding over gRPC on 127.0.0.1; both share this machine's cores. In one run:
//! - `interactive`: on node-2, `repo.begin()`, three tag inserts, `commit` — four round trips
//!   to node-1 plus the commit's, the primary's writer held from `begin` to the commit;
//! - `multi`: the same three inserts as one `Multi` from node-2 — one round trip, the
//!   writer held only while it runs on node-1 (what a named transaction costs);
//! - fairness: single forwarded inserts from 8 writers on node-2 for a fixed time while 0,
//!   1, 4 and 16 tasks run interactive transactions back to back (each a begin, three
//!   inserts and a commit, from node-2), reported as single writes per second.
//!
//! Sequential calls alternate the two variants one by one. Reported: p50/p99 and the
//! ratio. Run: `cargo bench -p repo-tests --bench interactive` (`ROUNDS=…`, `SECONDS=…`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use blog_example::entities::tag;
use repo_core::{Multi, Repo};
use repo_tests::cluster::Cluster;
use sea_orm::{ActiveModelTrait, Set, TransactionSession, TransactionTrait as _};

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{env_count, percentile};

fn am(name: String) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name),
        ..Default::default()
    }
}

async fn interactive(repo: &Repo, prefix: &str, n: u64) -> Duration {
    let started = Instant::now();
    let txn = repo.begin().await.expect("begin");
    for i in 0..3 {
        am(format!("{prefix}-{n}-{i}"))
            .insert(&txn)
            .await
            .expect("insert");
    }
    txn.commit().await.expect("commit");
    started.elapsed()
}

async fn multi(repo: &Repo, prefix: &str, n: u64) -> Duration {
    let started = Instant::now();
    let mut batch = Multi::new();
    for i in 0..3 {
        batch = batch.insert(&format!("t{i}"), am(format!("{prefix}-{n}-{i}")));
    }
    repo.multi(batch).await.expect("multi");
    started.elapsed()
}

fn report(label: &str, mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    println!("{label:<40} p50 {p50:>10.1?}  p99 {p99:>10.1?}");
    p50
}

/// Single forwarded writes per second from 8 writers while `open` tasks run interactive
/// transactions back to back.
async fn throughput(replica: &Repo, open: usize, seconds: u64, run: u64) -> (f64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let txns = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (repo, stop, writes) = (replica.clone(), stop.clone(), writes.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                repo.insert(am(format!("single-{run}-{open}-{w}-{n}")))
                    .await
                    .expect("single write");
                writes.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    for t in 0..open {
        let (repo, stop, txns) = (replica.clone(), stop.clone(), txns.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                interactive(&repo, &format!("bg-{run}-{open}-{t}"), n).await;
                txns.fetch_add(1, Ordering::Relaxed);
                n += 1;
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    (
        writes.load(Ordering::Relaxed) as f64 / elapsed,
        txns.load(Ordering::Relaxed),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds = env_count("ROUNDS", 2_000);
    let seconds = env_count("SECONDS", 3);
    let cluster = Cluster::start(1).await;
    let replica = cluster.replica(1).repo.clone();
    // Warm the channel and the caches.
    for n in 0..50 {
        interactive(&replica, "warm-i", n).await;
        multi(&replica, "warm-m", n).await;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for n in 0..rounds {
        if n % 2 == 0 {
            a.push(interactive(&replica, "i", n).await);
            b.push(multi(&replica, "m", n).await);
        } else {
            b.push(multi(&replica, "m", n).await);
            a.push(interactive(&replica, "i", n).await);
        }
    }
    println!("{rounds} calls per variant, from the replica:");
    let i = report("interactive (begin, 3 inserts, commit)", a);
    let m = report("multi (3 inserts, one round trip)", b);
    println!(
        "interactive p50 / multi p50 = {:.2}",
        i.as_secs_f64() / m.as_secs_f64()
    );
    println!(
        "\nsingle forwarded writes/s (8 writers, {seconds} s) while interactive transactions run:"
    );
    let mut base = None;
    for (run, open) in [0_usize, 1, 4, 16].into_iter().enumerate() {
        let (rate, txns) = throughput(&replica, open, seconds, run as u64).await;
        let base = *base.get_or_insert(rate);
        println!(
            "{open:>2} open: {rate:>9.0} writes/s ({:.2} of none), {txns} transactions committed",
            rate / base
        );
    }
}
