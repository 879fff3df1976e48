//! Forwarding over gRPC, measured against its baselines in the same run.
//!
//! One process, two nodes on 127.0.0.1: a primary (writable SQLite file, forwarding server)
//! and a replica (read-only copy of the schema) whose repository forwards. `REPS`
//! repetitions (default 5) of two phases; every figure is printed as the median over the
//! repetitions with its min–max, and the machine's load average is printed before and after.
//!
//! 1. Sequential: `ROUNDS` calls per variant, interleaved call by call in rotating order:
//!    - `echo`: a bare tonic round trip (the `Ping` rpc) to the primary's server;
//!    - `local`: `repo.insert(am)` on the primary (executes locally);
//!    - `forwarded`: `repo.insert(am)` on the replica (sent to the primary, recorded in
//!      the ledger);
//!    - `forwarded, ledger off`: the same through a second server with
//!      `ServerConfig::ledger(false)`: the cost of exactly-once.
//!
//!    Goal (issue 17): p50(forwarded) ≤ 1.1 × (p50(echo) + p50(local)).
//! 2. Throughput at 1, 8 and 64 concurrent writers (`WRITES` per run): local on the
//!    primary, forwarded with the ledger, forwarded without; the three variants of one
//!    writer count run back to back, in an order that rotates with the repetition.
//!    Goal: forwarded with the ledger ≥ 2 × local at 64 writers.
//!
//! Run: `cargo bench -p repo-litefs --bench forward` (`REPS=…`, `ROUNDS=…`, `WRITES=…`).
//! `PROFILE=forwarded` (or `local`, `unledgered`) runs only that variant at 64 writers,
//! `REPS` times, for `perf record`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use repo_core::Repo;
use repo_litefs::ledger::CreateLedgerTable;
use repo_litefs::proto as pb;
use repo_litefs::tracker::{PrimaryState, PrimaryTracker};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, ServerConfig,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Schema};
use sea_orm_migration::{MigrationTrait, SchemaManager};

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{Spread, env_count, load_average, new_note, percentile, us};
use support::note;

const SECRET: &str = "bench-secret-0123456789abcdef";

async fn open(path: &std::path::Path, mode: &str) -> DatabaseConnection {
    let db = Database::connect(format!("sqlite://{}?mode={mode}", path.display()))
        .await
        .expect("open");
    if mode != "ro" {
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .await
            .expect("pragmas");
    }
    db
}

#[tokio::main]
async fn main() {
    let reps = env_count("REPS", 5).max(1);
    let rounds = env_count("ROUNDS", 3_000).max(1);
    let writes = env_count("WRITES", 6_400).max(64);
    let dir = tempfile::tempdir().expect("dir");
    let primary_path = dir.path().join("primary.db");
    let primary_db = open(&primary_path, "rwc").await;
    let schema = Schema::new(primary_db.get_database_backend());
    primary_db
        .execute(&schema.create_table_from_entity(note::Entity))
        .await
        .expect("table");
    CreateLedgerTable
        .up(&SchemaManager::new(&primary_db))
        .await
        .expect("ledger table");
    let replica_path = dir.path().join("replica.db");
    std::fs::copy(&primary_path, &replica_path).expect("copy");
    let replica_db = open(&replica_path, "ro").await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let secret = ClusterSecret::new(SECRET).expect("secret");
    let (primary_tracker, _h1) =
        PrimaryTracker::manual(PrimaryState::primary(Some("primary".into())));
    let (replica_tracker, _h2) =
        PrimaryTracker::manual(PrimaryState::replica(Some("primary".into())));
    let endpoints = Endpoints::map([("primary", format!("http://{addr}"))]);
    let forward = |tracker: PrimaryTracker, name: &str| {
        ForwardLayer::new(ForwardConfig::new(
            tracker,
            endpoints.clone(),
            secret.clone(),
            name,
        ))
    };
    let primary = Repo::builder(primary_db.clone())
        .layer(forward(primary_tracker.clone(), "primary"))
        .build();
    let replica = Repo::builder(replica_db.clone())
        .layer(forward(replica_tracker, "replica"))
        .build();
    let server = ForwardServer::new(
        primary.executor(),
        primary_tracker,
        ServerConfig::new(secret.clone(), "primary"),
    );
    tokio::spawn(server.serve(listener, std::future::pending()));

    // A second server on the same primary, with the ledger off, and a replica using it.
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let bare_addr = bare_listener.local_addr().expect("addr");
    let (bare_tracker, _h3) = PrimaryTracker::manual(PrimaryState::primary(Some("primary".into())));
    let bare_server = ForwardServer::new(
        primary.executor(),
        bare_tracker,
        ServerConfig::new(secret.clone(), "primary").ledger(false),
    );
    tokio::spawn(bare_server.serve(bare_listener, std::future::pending()));
    let (unledgered_tracker, _h4) =
        PrimaryTracker::manual(PrimaryState::replica(Some("primary".into())));
    let unledgered = Repo::builder(replica_db.clone())
        .layer(ForwardLayer::new(ForwardConfig::new(
            unledgered_tracker,
            Endpoints::map([("primary", format!("http://{bare_addr}"))]),
            secret.clone(),
            "replica",
        )))
        .build();

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect");
    let mut echo = pb::forwarder_client::ForwarderClient::new(channel);
    let bearer: tonic::metadata::MetadataValue<_> =
        format!("Bearer {SECRET}").parse().expect("ascii");

    let nodes = Nodes {
        primary,
        replica,
        unledgered,
    };
    println!("load average before: {}", load_average());
    if let Ok(variant) = std::env::var("PROFILE") {
        // For `perf record`: one variant at 64 writers, nothing else.
        let repo = match variant.as_str() {
            "local" => &nodes.primary,
            "unledgered" => &nodes.unledgered,
            _ => &nodes.replica,
        };
        for _ in 0..reps {
            let rate = concurrent(repo.clone(), 64, writes).await;
            println!("{variant} at 64 writers: {rate:.0} writes/s");
        }
        return;
    }
    let mut sequential = Vec::new();
    let mut throughput = Vec::new();
    for rep in 0..reps {
        sequential.push(sequential_rep(&nodes, &mut echo, &bearer, rounds).await);
        throughput.push(throughput_rep(&nodes, rep, writes).await);
    }
    println!("load average after:  {}", load_average());
    report(&sequential, &throughput, reps, rounds, writes);
}

/// The three repositories measured: local on the primary, and two forwarding ones.
struct Nodes {
    primary: Repo,
    replica: Repo,
    unledgered: Repo,
}

/// p50 and p99 of each sequential variant in one repetition: echo, local, forwarded,
/// forwarded without the ledger.
type SequentialRep = [(Duration, Duration); 4];

/// Writes/s of local, forwarded and forwarded without the ledger, at 1, 8 and 64 writers.
type ThroughputRep = [[f64; 3]; 3];

const WRITERS: [usize; 3] = [1, 8, 64];

async fn sequential_rep(
    nodes: &Nodes,
    echo: &mut pb::forwarder_client::ForwarderClient<tonic::transport::Channel>,
    bearer: &tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
    rounds: usize,
) -> SequentialRep {
    let mut samples: [Vec<Duration>; 4] = Default::default();
    for i in 0..rounds + 300 {
        let mut took = [Duration::ZERO; 4];
        for k in 0..4 {
            let variant = (i + k) % 4;
            let t = Instant::now();
            match variant {
                0 => {
                    let mut request = tonic::Request::new(pb::PingRequest {
                        payload: vec![0; 64],
                    });
                    request
                        .metadata_mut()
                        .insert("authorization", bearer.clone());
                    echo.ping(request).await.expect("ping");
                }
                1 => drop(nodes.primary.insert(new_note()).await.expect("local")),
                2 => drop(nodes.replica.insert(new_note()).await.expect("forwarded")),
                _ => drop(
                    nodes
                        .unledgered
                        .insert(new_note())
                        .await
                        .expect("forwarded, no ledger"),
                ),
            }
            took[variant] = t.elapsed();
        }
        if i >= 300 {
            for (s, t) in samples.iter_mut().zip(took) {
                s.push(t);
            }
        }
    }
    samples.map(|mut s| {
        s.sort();
        (percentile(&s, 0.5), percentile(&s, 0.99))
    })
}

async fn throughput_rep(nodes: &Nodes, rep: usize, writes: usize) -> ThroughputRep {
    let mut rates = [[0.0; 3]; 3];
    for (w, writers) in WRITERS.into_iter().enumerate() {
        for k in 0..3 {
            let variant = (rep + k) % 3;
            let repo = match variant {
                0 => &nodes.primary,
                1 => &nodes.replica,
                _ => &nodes.unledgered,
            };
            // Fewer writes alone: one writer is slow, and its rate settles quickly.
            let total = if writers == 1 { writes / 8 } else { writes };
            rates[w][variant] = concurrent(repo.clone(), writers, total).await;
        }
    }
    rates
}

/// Writes/s of `writers` tasks inserting `total / writers` notes each through `repo`.
async fn concurrent(repo: Repo, writers: usize, total: usize) -> f64 {
    let repo = Arc::new(repo);
    let each = total / writers;
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let repo = repo.clone();
            tokio::spawn(async move {
                for _ in 0..each {
                    repo.insert(new_note()).await.expect("insert");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join");
    }
    (each * writers) as f64 / start.elapsed().as_secs_f64()
}

fn report(
    sequential: &[SequentialRep],
    throughput: &[ThroughputRep],
    reps: usize,
    rounds: usize,
    writes: usize,
) {
    let spread = |f: &dyn Fn(&SequentialRep) -> f64| Spread::of(sequential.iter().map(f).collect());
    println!(
        "\nsequential: {rounds} interleaved calls per variant and repetition; median over \
         {reps} repetitions (min–max)"
    );
    for (i, name) in [
        "bare tonic echo (Ping)",
        "local insert on the primary",
        "forwarded insert from the replica",
        "forwarded, ledger off",
    ]
    .iter()
    .enumerate()
    {
        println!(
            "{name:<36} p50 {} µs  p99 {} µs",
            spread(&|r| us(r[i].0)).show(1),
            spread(&|r| us(r[i].1)).show(1)
        );
    }
    for (label, i) in [("ledger on", 2), ("ledger off", 3)] {
        println!(
            "P2 = forwarded p50 / (echo p50 + local p50), {label}: {}",
            spread(&|r| r[i].0.as_secs_f64() / (r[0].0 + r[1].0).as_secs_f64()).show(3)
        );
    }
    println!(
        "ledger cost, forwarded p50 with − without: {} µs",
        spread(&|r| us(r[2].0) - us(r[3].0)).show(1)
    );

    println!(
        "\nthroughput, writes/s ({writes} writes per run, {} alone); median over {reps} repetitions (min–max)",
        writes / 8
    );
    let rate = |w: usize, v: usize| Spread::of(throughput.iter().map(|r| r[w][v]).collect());
    let ratio = |w: usize, a: usize, b: usize| {
        Spread::of(throughput.iter().map(|r| r[w][a] / r[w][b]).collect())
    };
    for (w, writers) in WRITERS.into_iter().enumerate() {
        println!(
            "{writers:>2} writers: local {}  forwarded {}  forwarded, ledger off {}",
            rate(w, 0).show(0),
            rate(w, 1).show(0),
            rate(w, 2).show(0)
        );
        println!(
            "            forwarded / local {}  ledger on / off {}",
            ratio(w, 1, 0).show(3),
            ratio(w, 1, 2).show(3)
        );
    }
}
