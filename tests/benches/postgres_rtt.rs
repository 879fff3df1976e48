//! Write forwarding on PostgreSQL a region away: a write from the standby's side forwarded
//! to the primary's node over gRPC, against what users do without forwarding: a
//! connection from the standby's side to the primary server, every statement crossing the
//! network.
//!
//! A real primary and a streaming standby (`repo_tests::postgres`), a repository node on
//! each (`pg-1` next to the primary, `pg-2` next to the standby). Everything between the
//! standby's side and the primary's crosses a delaying userspace proxy
//! (`repo_tests::proxy`, the same one-way delay on each link): `pg-2`'s gRPC channel to
//! `pg-1`, the direct connection to the primary server, and the standby's replication
//! stream (its `primary_conninfo` is pointed at a proxy). Variants, from the standby's side:
//! - `fwd insert`: `repo.insert(am)` on `pg-2`, forwarded, then the read-your-writes wait
//!   by LSN, so the row is readable on the standby when the call returns;
//! - `direct insert`: `am.insert(&db)` over a pool of connections to the primary (one
//!   `INSERT … RETURNING`, prepared statement cached, no ping before use; sqlx's ping
//!   when a connection returns to the pool overlaps with the next call, which takes another
//!   connection);
//! - `fwd txn`: a named transaction of 5 `INSERT`s (the harness's `InsertTags`),
//!   forwarded (one round trip), then the wait;
//! - `direct txn`: `BEGIN`, the same 5 `INSERT`s, `COMMIT` on the direct connection;
//! - `fwd eventual`: `fwd insert` with `Consistency::Eventual` (no wait), for the wait's
//!   cost seen from outside.
//!
//! Each forwarded read-your-writes call records its wait (after the answer arrived, until
//! the standby had replayed the write's LSN or shows its ledger row) in
//! `litefs_consistency_wait_seconds`, read here through a debugging recorder: since the
//! answer and the WAL cross the same delay, that wait is what read-your-writes costs
//! beyond the replication lag.
//!
//! For each round trip (`RTT_MS`, default `1,50`), `REPS` repetitions (default 5), the
//! variants in rotating order (each repetition starts one later, odd ones reversed), `SEQ`
//! sequential calls each (default 20). Reported: the median of each repetition's median,
//! the min–max over repetitions, and the ratios per repetition.
//!
//! Run: `cargo bench -p repo-tests --bench postgres_rtt` (needs PostgreSQL 15 as
//! `repo_tests::postgres` does; skips otherwise).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use blog_example::entities::tag;
use metrics_util::debugging::DebuggingRecorder;
use repo_core::{Consistency, Repo};
use repo_litefs::{Endpoints, Node};
use repo_postgres::RoleConfig;
use repo_tests::postgres::PgCluster;
use repo_tests::postgres::nodes::test_config;
use repo_tests::postgres::tag_batch::{InsertTags, TagBatch};
use repo_tests::proxy::Proxy;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, Database, DatabaseConnection, Set, TransactionTrait,
};
use tokio::net::TcpListener;

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;
#[path = "common/waits.rs"]
mod waits;
use waits::waits;

use support::measure::{Spread, env_count, load_average, median, ms};

fn new_tag(name: String) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name),
        ..Default::default()
    }
}

fn five(prefix: &str) -> Vec<String> {
    (0..5).map(|i| format!("{prefix}-{i}")).collect()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    FwdInsert,
    DirectInsert,
    FwdTxn,
    DirectTxn,
    FwdEventual,
}

const VARIANTS: [Variant; 5] = [
    Variant::FwdInsert,
    Variant::DirectInsert,
    Variant::FwdTxn,
    Variant::DirectTxn,
    Variant::FwdEventual,
];

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Variant::FwdInsert => "fwd insert (read-your-writes)",
            Variant::DirectInsert => "direct insert",
            Variant::FwdTxn => "fwd txn, 5 inserts (read-your-writes)",
            Variant::DirectTxn => "direct txn: BEGIN, 5 inserts, COMMIT",
            Variant::FwdEventual => "fwd insert (eventual, no wait)",
        }
    }
}

/// The standby side: its node's repository and a direct connection to the primary.
struct StandbySide {
    repo: Repo,
    direct: DatabaseConnection,
}

impl StandbySide {
    /// One call of `variant`; how long it took.
    async fn call(&self, variant: Variant, name: String) -> Duration {
        let started = Instant::now();
        match variant {
            Variant::FwdInsert => {
                self.repo.insert(new_tag(name)).await.expect("fwd insert");
            }
            Variant::FwdEventual => {
                self.repo
                    .insert(new_tag(name))
                    .consistency(Consistency::Eventual)
                    .await
                    .expect("fwd eventual");
            }
            Variant::DirectInsert => {
                new_tag(name).insert(&self.direct).await.expect("direct");
            }
            Variant::FwdTxn => {
                let ids = self
                    .repo
                    .transaction::<InsertTags>(TagBatch {
                        names: five(&name),
                        fail_after: None,
                    })
                    .await
                    .expect("fwd txn");
                assert_eq!(ids.len(), 5);
            }
            Variant::DirectTxn => {
                let txn = self.direct.begin().await.expect("BEGIN");
                for name in five(&name) {
                    new_tag(name).insert(&txn).await.expect("insert");
                }
                txn.commit().await.expect("COMMIT");
            }
        }
        started.elapsed()
    }
}

/// The harness's test node over `db`, named `name`, forwarding to `pg-1` through
/// `endpoints`.
async fn node(
    db: &DatabaseConnection,
    name: &str,
    endpoints: &Endpoints,
    listener: TcpListener,
) -> Node {
    let role = RoleConfig::new(name, "pg-1").interval(Duration::from_millis(100));
    Node::start(test_config(db, endpoints, role), listener)
        .await
        .expect("start node")
}

/// Points the standby's replication at `link` and waits until it streams through it.
fn replicate_through(cluster: &PgCluster, link: SocketAddr) {
    let standby = &cluster.standby;
    standby
        .psql(&format!(
            "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port={} user=postgres'",
            link.port()
        ))
        .expect("primary_conninfo");
    standby.psql("SELECT pg_reload_conf()").expect("reload");
    let started = Instant::now();
    loop {
        let port = standby
            .psql("SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'")
            .unwrap_or_default();
        if port == link.port().to_string() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the standby does not stream through the proxy (sender port {port:?})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rtts: Vec<u64> = std::env::var("RTT_MS")
        .unwrap_or_else(|_| "1,50".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps: usize = env_count("REPS", 5).max(1);
    let seq: usize = env_count("SEQ", 20).max(1);
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("the only recorder");
    let Some(cluster) = tokio::task::spawn_blocking(PgCluster::start_or_skip)
        .await
        .expect("set-up")
    else {
        return;
    };
    let primary_addr: SocketAddr = ([127, 0, 0, 1], cluster.primary.port).into();
    let first = Duration::from_millis(rtts.first().copied().unwrap_or(1)) / 2;
    let replication = Proxy::with_delay(primary_addr, first).await;
    let sql_link = Proxy::with_delay(primary_addr, first).await;
    let (l1, l2) = (
        TcpListener::bind("127.0.0.1:0").await.expect("bind"),
        TcpListener::bind("127.0.0.1:0").await.expect("bind"),
    );
    let grpc_link = Proxy::with_delay(l1.local_addr().expect("addr"), first).await;
    let endpoints = Endpoints::map([
        ("pg-1", format!("http://{}", grpc_link.addr)),
        ("pg-2", format!("http://{}", l2.local_addr().expect("addr"))),
    ]);
    let replication_addr = replication.addr;
    let cluster = tokio::task::spawn_blocking(move || {
        replicate_through(&cluster, replication_addr);
        cluster
    })
    .await
    .expect("replication through the proxy");

    let timeout = Duration::from_secs(30);
    let primary_db = repo_postgres::connect(&cluster.primary.url(), timeout)
        .await
        .expect("primary");
    let standby_db = repo_postgres::connect(&cluster.standby.url(), timeout)
        .await
        .expect("standby");
    let pg1 = node(&primary_db, "pg-1", &endpoints, l1).await;
    let pg2 = node(&standby_db, "pg-2", &endpoints, l2).await;
    let mut direct = ConnectOptions::new(format!("postgres://postgres@{}/postgres", sql_link.addr));
    // sqlx pings a connection when it returns to the pool: with one connection that ping
    // would add a round trip before the next statement; with four it overlaps.
    direct
        .max_connections(4)
        .min_connections(4)
        .test_before_acquire(false)
        .sqlx_logging(false);
    let side = StandbySide {
        repo: pg2.repo().clone(),
        direct: Database::connect(direct).await.expect("direct connection"),
    };

    println!("load average at start: {}", load_average());
    for rtt in rtts {
        let one_way = Duration::from_millis(rtt) / 2;
        for link in [&replication, &sql_link, &grpc_link] {
            link.set_delay(one_way);
        }
        for v in VARIANTS {
            for n in 0..3 {
                side.call(v, format!("warm-{rtt}-{v:?}-{n}")).await;
            }
        }
        let _ = waits(&snapshotter);
        // Per variant, one median per repetition; the waits of each repetition.
        let mut medians: Vec<Vec<f64>> = vec![Vec::new(); VARIANTS.len()];
        let mut wait_p50 = Vec::new();
        let mut wait_p99 = Vec::new();
        for rep in 0..reps {
            let mut order: Vec<usize> = (0..VARIANTS.len()).collect();
            order.rotate_left(rep % VARIANTS.len());
            if rep % 2 == 1 {
                order.reverse();
            }
            for i in order {
                let mut took = Vec::new();
                for n in 0..seq {
                    let d = side
                        .call(VARIANTS[i], format!("r{rtt}-{rep}-{i}-{n}"))
                        .await;
                    took.push(ms(d));
                }
                medians[i].push(median(took));
            }
            let recorded = waits(&snapshotter);
            assert_eq!(
                recorded.len(),
                2 * seq,
                "one wait per read-your-writes call"
            );
            wait_p50.push(support::measure::percentile_of(recorded.clone(), 0.5));
            wait_p99.push(support::measure::percentile_of(recorded, 0.99));
            eprintln!(
                "rtt {rtt} ms: repetition {} done, load {}",
                rep + 1,
                load_average()
            );
        }
        println!(
            "\n## RTT {rtt} ms ({reps} repetitions, rotating order, {seq} calls per variant \
             each; load average {})",
            load_average()
        );
        println!("| variant | median of per-repetition medians (min–max), ms |\n| --- | --- |");
        for (i, v) in VARIANTS.iter().enumerate() {
            println!(
                "| {} | {} |",
                v.label(),
                Spread::of(medians[i].clone()).show(2)
            );
        }
        let ratio = |a: usize, b: usize| {
            Spread::of(
                medians[a]
                    .iter()
                    .zip(&medians[b])
                    .map(|(a, b)| a / b)
                    .collect(),
            )
            .show(2)
        };
        let minus = |a: usize, b: usize| {
            Spread::of(
                medians[a]
                    .iter()
                    .zip(&medians[b])
                    .map(|(a, b)| a - b)
                    .collect(),
            )
            .show(2)
        };
        println!("direct insert / fwd insert: {}", ratio(1, 0));
        println!("direct txn / fwd txn: {}", ratio(3, 2));
        println!("fwd insert − fwd eventual (ms): {}", minus(0, 4));
        println!(
            "read-your-writes wait per call after the answer (ms): p50 {}, p99 {}",
            Spread::of(wait_p50).show(2),
            Spread::of(wait_p99).show(2)
        );
    }
    println!("\nload average at end: {}", load_average());
    let on_primary =
        repo_tests::postgres::nodes::scalar(&primary_db, "SELECT count(*) FROM tags").await;
    println!("tags written on the primary: {on_primary}");
    println!(
        "connections through the proxies: replication {}, direct {}, gRPC {}",
        replication
            .accepted
            .load(std::sync::atomic::Ordering::SeqCst),
        sql_link.accepted.load(std::sync::atomic::Ordering::SeqCst),
        grpc_link.accepted.load(std::sync::atomic::Ordering::SeqCst),
    );
    pg2.shutdown().await;
    pg1.shutdown().await;
    drop(cluster);
}
