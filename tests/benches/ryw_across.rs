//! Read-your-writes a region away, on the LiteFS emulator: how long a forwarded write
//! waits, after its data reached the replica, before it returns.
//!
//! Two emulated nodes (node-1 primary) started with `EmulatedCluster::start_across`: the
//! gRPC forwarding crosses a proxy with one-way delay `RTT/2` each way, and the emulator's
//! replication lag is the same one-way delay. From node-2, calls alternate between
//! `Consistency::ReadYourWrites` and `Consistency::Eventual` (ABBA per repetition). A
//! thread samples node-2's replicated position every 50 µs and notes when it changes;
//! per read-your-writes call, the **wait beyond lag** is `returned − last change of
//! node-2's position before it returned` (the data was visible locally from that instant
//! on, up to the 50 µs sampling, so the figure is low by at most that). After each call
//! the bench waits for the replicas to be in sync, so one call's replication never falls in
//! the next one. Reported per round trip (`RTT_MS`, default `0,10,50`): p50 and p99 of the
//! wait beyond lag, each as median and min–max over `REPS` (default 5) repetitions of
//! `CALLS` calls per variant (default 40), and the calls' latencies.
//!
//! Run: `cargo bench -p repo-tests --bench ryw_across`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use repo_core::{Consistency, Durability};
use repo_tests::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};
use repo_tests::history_row;
use sea_orm::Set;

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{Spread, env_count, load_average, percentile_of};

/// When node-2's position last changed, as seen by the sampling thread.
type Changes = Arc<Mutex<Vec<Instant>>>;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rtts: Vec<u64> = std::env::var("RTT_MS")
        .unwrap_or_else(|_| "0,10,50".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps: usize = env_count("REPS", 5);
    let calls: usize = env_count("CALLS", 40);
    println!("load average at start: {}", load_average());
    println!(
        "\n| RTT | wait beyond lag p50, ms | p99, ms | RYW call p50, ms | eventual call p50, ms |\n| --- | --- | --- | --- | --- |"
    );
    for rtt in rtts {
        let one_way = Duration::from_millis(rtt) / 2;
        let spec = ClusterSpec {
            nodes: 2,
            lag: one_way,
            durability: Durability::Primary,
            schema: Schema::Plain,
        };
        let cluster = Arc::new(rt.block_on(EmulatedCluster::start_across(spec, one_way)));
        let changes: Changes = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (cluster, changes, stop) = (cluster.clone(), changes.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut last = cluster.emulator.position("node-2");
                while !stop.load(Ordering::Relaxed) {
                    let now = cluster.emulator.position("node-2");
                    if now != last {
                        last = now;
                        if let Ok(mut c) = changes.lock() {
                            c.push(Instant::now());
                        }
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
            })
        };
        let (mut p50s, mut p99s, mut ryw_calls, mut eventual_calls) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        rt.block_on(async {
            let repo = cluster.node("node-2").repo().clone();
            for rep in 0..=reps {
                let order = if rep % 2 == 0 {
                    [Consistency::ReadYourWrites, Consistency::Eventual]
                } else {
                    [Consistency::Eventual, Consistency::ReadYourWrites]
                };
                let (mut beyond, mut ryw, mut eventual) = (Vec::new(), Vec::new(), Vec::new());
                for n in 0..calls {
                    for consistency in order {
                        let started = Instant::now();
                        repo.insert(history_row::ActiveModel {
                            key: Set(format!("{rtt}-{rep}-{n}-{consistency:?}")),
                            ..Default::default()
                        })
                        .consistency(consistency)
                        .await
                        .expect("write");
                        let returned = Instant::now();
                        let took = (returned - started).as_secs_f64() * 1e3;
                        match consistency {
                            Consistency::ReadYourWrites => {
                                ryw.push(took);
                                let visible = changes.lock().ok().and_then(|c| {
                                    c.iter()
                                        .rev()
                                        .find(|&&t| t <= returned && t >= started)
                                        .copied()
                                });
                                match visible {
                                    Some(v) => beyond.push((returned - v).as_secs_f64() * 1e3),
                                    None => eprintln!("no position change seen within a call"),
                                }
                            }
                            Consistency::Eventual => eventual.push(took),
                        }
                        cluster.emulator.wait_synced(Duration::from_secs(5)).await;
                    }
                }
                if rep == 0 {
                    continue; // warm-up
                }
                p50s.push(percentile_of(beyond.clone(), 0.5));
                p99s.push(percentile_of(beyond, 0.99));
                ryw_calls.push(percentile_of(ryw, 0.5));
                eventual_calls.push(percentile_of(eventual, 0.5));
            }
        });
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        println!(
            "| {rtt} ms | {} | {} | {} | {} |",
            Spread::of(p50s.clone()).show(2),
            Spread::of(p99s.clone()).show(2),
            Spread::of(ryw_calls.clone()).show(2),
            Spread::of(eventual_calls.clone()).show(2)
        );
        if let Ok(mut cluster) = Arc::try_unwrap(cluster) {
            rt.block_on(cluster.stop_nodes());
        }
    }
    println!("\nload average at end: {}", load_average());
}
