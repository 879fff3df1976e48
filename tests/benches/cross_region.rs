//! Write forwarding a region away: ours against LiteFS's HALT lock, on real LiteFS, with
//! every byte between nodes delayed by a userspace proxy (`repo_tests::proxy`; this kernel
//! has no `netem`).
//!
//! Three `litefs mount` processes (static lease, node-1 primary) started with
//! `LiteFsCluster::start_or_skip_across`: the lease's advertise-url names the primary's
//! proxy, so LiteFS's replication stream, HALT lock requests and shipped LTX files cross
//! the delay; the repository stacks forward over gRPC through proxies with the same delay.
//! From replica node-2:
//! - `ours`: `repo.insert(am)` forwarded to node-1, then the read-your-writes wait (LiteFS
//!   TXID or ledger row), so the row is readable on node-2 when the call returns;
//! - `HALT`: `am.insert(&db)` on node-2's own file under the HALT lock (taken and released
//!   around each write, as `litefs run -with-halt-lock-on` does);
//! - `primary local` (sequential only): `am.insert(&db)` on node-1, the commit both pay.
//!
//! For each round trip (`RTT_MS`, default `10,50`), `REPS` repetitions (default 5), the
//! variants in ABBA order: `SEQ` sequential writes each (default 10), then for 1, 8 and 32
//! writers a `SECS`-second block each (default 3; writes/s counts the writes completed
//! within the block). Reported: medians and min–max over repetitions, and the ratios.
//!
//! Run: `LITEFS_BIN=/root/go/bin/litefs cargo bench -p repo-tests --bench cross_region`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use repo_tests::real_litefs::{LiteFsCluster, Stacks, TagWriter};

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{env_count, load_average, median, min_max, ms};

/// Writes/s of `writers` writers for `secs`: the writes completed within the block.
async fn block(variant: &TagWriter, writers: usize, secs: Duration, tag: &str) -> f64 {
    let done = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + secs;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (variant, done, tag) = (variant.clone(), done.clone(), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            let lock = variant.lock();
            let mut n = 0;
            while Instant::now() < until {
                variant.write(format!("{tag}-{w}-{n}"), lock.as_ref()).await;
                if Instant::now() <= until {
                    done.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer");
    }
    done.load(Ordering::Relaxed) as f64 / secs.as_secs_f64()
}

#[tokio::main]
async fn main() {
    let rtts: Vec<u64> = std::env::var("RTT_MS")
        .unwrap_or_else(|_| "10,50".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps: usize = env_count("REPS", 5);
    let seq: usize = env_count("SEQ", 10);
    let secs = Duration::from_secs_f64(env_count("SECS", 3.0));
    let first = Duration::from_millis(rtts.first().copied().unwrap_or(10)) / 2;
    let Some(cluster) =
        LiteFsCluster::start_or_skip_across(&["node-1", "node-2", "node-3"], first).await
    else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    let replica = &cluster.nodes[1];
    let ours = TagWriter::Forwarded(stacks.node("node-2").repo.clone());
    let halt = TagWriter::halt_on(replica).await;
    let local = TagWriter::PrimaryLocal(stacks.node("node-1").db.clone());
    println!("load average at start: {}", load_average());
    for rtt in rtts {
        let one_way = Duration::from_millis(rtt) / 2;
        cluster.set_link_delay(one_way);
        stacks.set_link_delay(one_way);
        let variants = [ours.clone(), halt.clone(), local.clone()];
        let locks: Vec<_> = variants.iter().map(TagWriter::lock).collect();
        for (i, v) in variants.iter().enumerate() {
            for n in 0..3 {
                v.write(format!("warm-{rtt}-{i}-{n}"), locks[i].as_ref())
                    .await;
            }
        }
        // Per repetition: sequential p50 per variant; writes/s per (writers, variant).
        let mut seq_p50: Vec<Vec<f64>> = vec![Vec::new(); 3];
        let counts = [1_usize, 8, 32];
        let mut rates: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); 2]; counts.len()];
        for rep in 0..reps {
            let order: Vec<usize> = if rep % 2 == 0 {
                vec![0, 1, 2]
            } else {
                vec![2, 1, 0]
            };
            for &i in &order {
                let mut took = Vec::new();
                for n in 0..seq {
                    let d = variants[i]
                        .write(format!("s-{rtt}-{rep}-{i}-{n}"), locks[i].as_ref())
                        .await;
                    took.push(ms(d));
                }
                seq_p50[i].push(median(took));
            }
            for (c, &writers) in counts.iter().enumerate() {
                let order = if rep % 2 == 0 { [0, 1] } else { [1, 0] };
                for i in order {
                    let tag = format!("c-{rtt}-{rep}-{writers}-{i}");
                    rates[c][i].push(block(&variants[i], writers, secs, &tag).await);
                }
            }
            eprintln!(
                "rtt {rtt} ms: repetition {} done, load {}",
                rep + 1,
                load_average()
            );
        }
        println!(
            "\n## RTT {rtt} ms ({reps} repetitions, ABBA; load average {})",
            load_average()
        );
        println!("\nsequential, {seq} writes per variant per repetition: p50 per repetition");
        println!("| variant | median of p50s | min–max |\n| --- | --- | --- |");
        for (i, v) in variants.iter().enumerate() {
            let (lo, hi) = min_max(&seq_p50[i]);
            println!(
                "| {} | {:.1} ms | {lo:.1}–{hi:.1} ms |",
                v.label(),
                median(seq_p50[i].clone())
            );
        }
        let ratio: Vec<f64> = seq_p50[1]
            .iter()
            .zip(&seq_p50[0])
            .map(|(h, o)| h / o)
            .collect();
        let (lo, hi) = min_max(&ratio);
        println!(
            "HALT / ours latency: {:.2}x ({lo:.2}–{hi:.2}); ours − RTT − primary local = {:.1} ms",
            median(ratio.clone()),
            median(seq_p50[0].clone()) - rtt as f64 - median(seq_p50[2].clone())
        );
        println!("\nwrites/s ({:.0} s blocks)", secs.as_secs_f64());
        println!("| writers | ours | HALT | ours / HALT |\n| --- | --- | --- | --- |");
        for (c, &writers) in counts.iter().enumerate() {
            let (o, h) = (&rates[c][0], &rates[c][1]);
            let ratio: Vec<f64> = o.iter().zip(h).map(|(o, h)| o / h.max(0.01)).collect();
            let ((olo, ohi), (hlo, hhi), (rlo, rhi)) = (min_max(o), min_max(h), min_max(&ratio));
            println!(
                "| {writers} | {:.1} ({olo:.1}–{ohi:.1}) | {:.1} ({hlo:.1}–{hhi:.1}) | {:.1}x ({rlo:.1}–{rhi:.1}) |",
                median(o.clone()),
                median(h.clone()),
                median(ratio.clone())
            );
        }
    }
    println!("\nload average at end: {}", load_average());
    for writer in [ours, halt, local] {
        writer.close().await;
    }
    stacks.close().await;
    cluster.shutdown().await;
}
