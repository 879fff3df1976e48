//! Our write forwarding against LiteFS's own (the HALT lock), on real LiteFS under FUSE.
//!
//! Three `litefs mount` processes on 127.0.0.1 (static lease, node-1 primary), the
//! repository stack on each (`repo_tests::real_litefs`). From replica node-2, in one run:
//! - `forwarded`: `repo.insert(am)`, forwarded over gRPC to node-1, then the read-your-writes
//!   wait (by LiteFS TXID) so the write is readable on node-2 when the call returns;
//! - `halt`: `am.insert(&db)` with plain sea-orm on node-2's own file while holding the HALT
//!   lock (OFD write lock on byte 72 of `<db>-lock`, taken and released around each write,
//!   as `litefs run -with-halt-lock-on` does around its command); the write is local, so
//!   readable on node-2 at once;
//! - `primary local`: `am.insert(&db)` on node-1 itself, the floor either way pays. Its pool
//!   is sea-orm's SQLite default (one connection), so 8 local writers queue for it and commit
//!   one write at a time, without SQLite's busy retries.
//!
//! Sequential: calls interleaved one by one, the order rotating every round. Concurrent:
//! 8 writers, blocks of each variant alternating in ABBA order. Reported: p50/p99/mean
//! latency, writes per second, and the ratios.
//!
//! Run: `cargo bench -p repo-tests --bench halt_lock` (`ROUNDS=…`, `BLOCK=…`). Needs LiteFS
//! and FUSE as the tests do; without them it says so and exits.

use std::time::{Duration, Instant};

use repo_tests::real_litefs::{LiteFsCluster, Stacks, TagWriter};

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{env_count, ms, percentile};

const WRITERS: usize = 8;

struct Tally {
    latencies: Vec<Duration>,
    busy: Duration,
    writes: usize,
}

impl Tally {
    fn new() -> Self {
        Self {
            latencies: Vec::new(),
            busy: Duration::ZERO,
            writes: 0,
        }
    }

    /// (p50, p99, mean, writes per second)
    fn summary(&mut self) -> (Duration, Duration, Duration, f64) {
        self.latencies.sort();
        let total: Duration = self.latencies.iter().sum();
        (
            percentile(&self.latencies, 0.5),
            percentile(&self.latencies, 0.99),
            total / u32::try_from(self.latencies.len().max(1)).unwrap_or(u32::MAX),
            self.writes as f64 / self.busy.as_secs_f64(),
        )
    }
}

fn report(title: &str, variants: &[TagWriter], tallies: &mut [Tally]) {
    println!("\n{title}");
    println!("| variant | p50 | p99 | mean | writes/s |\n| --- | --- | --- | --- | --- |");
    let mut rows = Vec::new();
    for (v, t) in variants.iter().zip(tallies.iter_mut()) {
        let (p50, p99, mean, rate) = t.summary();
        println!(
            "| {} | {:.2} ms | {:.2} ms | {:.2} ms | {rate:.0} |",
            v.label(),
            ms(p50),
            ms(p99),
            ms(mean)
        );
        rows.push((p50, mean, rate));
    }
    let (ours, halt) = (rows[0], rows[1]);
    println!(
        "forwarded/HALT: throughput {:.2}x; latency p50 {:.2}x, mean {:.2}x",
        ours.2 / halt.2,
        ms(ours.0) / ms(halt.0),
        ms(ours.1) / ms(halt.1)
    );
}

async fn sequential(variants: &[TagWriter], rounds: usize, phase: &str) {
    let locks: Vec<_> = variants.iter().map(TagWriter::lock).collect();
    let mut tallies: Vec<Tally> = variants.iter().map(|_| Tally::new()).collect();
    for round in 0..rounds {
        for k in 0..variants.len() {
            let i = (round + k) % variants.len();
            let took = variants[i]
                .write(format!("{phase}-{i}-{round}"), locks[i].as_ref())
                .await;
            tallies[i].latencies.push(took);
            tallies[i].busy += took;
            tallies[i].writes += 1;
        }
    }
    report(
        &format!("sequential, {rounds} writes per variant, interleaved"),
        variants,
        &mut tallies,
    );
}

async fn concurrent(variants: &[TagWriter], blocks: usize, per_writer: usize) {
    let mut tallies: Vec<Tally> = variants.iter().map(|_| Tally::new()).collect();
    for block in 0..blocks {
        // ABBA…: forwards, backwards, forwards, …
        let order: Vec<usize> = if block % 2 == 0 {
            (0..variants.len()).collect()
        } else {
            (0..variants.len()).rev().collect()
        };
        for i in order {
            let started = Instant::now();
            let mut writers = Vec::new();
            for w in 0..WRITERS {
                let variant = variants[i].clone();
                let lock = variant.lock();
                writers.push(tokio::spawn(async move {
                    let mut took = Vec::new();
                    for n in 0..per_writer {
                        took.push(
                            variant
                                .write(format!("c{i}-{block}-{w}-{n}"), lock.as_ref())
                                .await,
                        );
                    }
                    took
                }));
            }
            for writer in writers {
                tallies[i].latencies.extend(writer.await.expect("writer"));
            }
            tallies[i].busy += started.elapsed();
            tallies[i].writes += WRITERS * per_writer;
        }
    }
    report(
        &format!("{WRITERS} concurrent writers, {blocks} blocks of {per_writer} writes each"),
        variants,
        &mut tallies,
    );
}

#[tokio::main]
async fn main() {
    let rounds = env_count("ROUNDS", 300).max(1);
    let block = env_count("BLOCK", 25).max(1);
    let Some(cluster) = LiteFsCluster::start_or_skip(&["node-1", "node-2", "node-3"]).await else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    let replica = &cluster.nodes[1];
    let variants = [
        TagWriter::Forwarded(stacks.node("node-2").repo.clone()),
        TagWriter::halt_on(replica).await,
        TagWriter::PrimaryLocal(stacks.node("node-1").db.clone()),
    ];
    // Warm-up: connections, channels, caches.
    sequential(&variants, 20, "warm-up").await;
    println!("\n(the warm-up above is not counted)");
    sequential(&variants, rounds, "sequential").await;
    concurrent(&variants, 4, block).await;
    for variant in variants {
        variant.close().await;
    }
    stacks.close().await;
    cluster.shutdown().await;
}
