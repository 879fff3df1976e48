//! Forwarding over gRPC, measured against its baselines in the same run.
//!
//! One process, two nodes on 127.0.0.1: a primary (writable SQLite file, forwarding server)
//! and a replica (read-only copy of the schema) whose repository forwards. Measured, with
//! the variants interleaved call by call in rotating order:
//! - `echo`: a bare tonic round trip (the `Ping` rpc) to the primary's server;
//! - `local`: `repo.insert(am)` on the primary (executes locally);
//! - `forwarded`: `repo.insert(am)` on the replica (sent to the primary, recorded in the
//!   ledger);
//! - `forwarded, ledger off`: the same through a second server with
//!   `ServerConfig::ledger(false)`: the cost of exactly-once.
//!
//! Target: p50(forwarded) ≤ 1.2 × (p50(echo) + p50(local)).
//! Then throughput with 64 concurrent writers, on the replica (forwarded) and on the
//! primary (local). Target: forwarded ≥ 1.0 × local.
//!
//! Run: `cargo bench -p repo-litefs --bench forward` (`ROUNDS=…`, `WRITES=…` to change the
//! counts).

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

use support::measure::{new_note, percentile, us};
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
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5_000);
    let writes: usize = std::env::var("WRITES")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(6_400);
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

    let mut samples: [Vec<Duration>; 4] = Default::default();
    for i in 0..rounds + 500 {
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
                1 => drop(primary.insert(new_note()).await.expect("local")),
                2 => drop(replica.insert(new_note()).await.expect("forwarded")),
                _ => drop(
                    unledgered
                        .insert(new_note())
                        .await
                        .expect("forwarded, no ledger"),
                ),
            }
            took[variant] = t.elapsed();
        }
        if i >= 500 {
            for (s, t) in samples.iter_mut().zip(took) {
                s.push(t);
            }
        }
    }
    for s in &mut samples {
        s.sort();
    }
    let [echo_p50, local_p50, fwd_p50, bare_p50] =
        [0, 1, 2, 3].map(|i| percentile(&samples[i], 0.5));
    println!("sequential, {rounds} interleaved calls per variant");
    for (name, s) in [
        "bare tonic echo (Ping)",
        "local insert on the primary",
        "forwarded insert from the replica",
        "forwarded, ledger off",
    ]
    .iter()
    .zip(&samples)
    {
        println!(
            "{name:<36} p50 {:>7.1} µs  p99 {:>7.1} µs",
            us(percentile(s, 0.5)),
            us(percentile(s, 0.99))
        );
    }
    for (label, p50) in [("ledger on", fwd_p50), ("ledger off", bare_p50)] {
        println!(
            "forwarded p50 / (echo p50 + local p50), {label}: {:.1} / ({:.1} + {:.1}) = {:.3}",
            us(p50),
            us(echo_p50),
            us(local_p50),
            p50.as_secs_f64() / (echo_p50 + local_p50).as_secs_f64()
        );
    }

    println!(
        "ledger cost: forwarded p50 {:.1} µs with it, {:.1} µs without: {:+.1} µs ({:.3}×)",
        us(fwd_p50),
        us(bare_p50),
        us(fwd_p50) - us(bare_p50),
        fwd_p50.as_secs_f64() / bare_p50.as_secs_f64()
    );

    let concurrent = |repo: Repo| async move {
        let repo = Arc::new(repo);
        let start = Instant::now();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let repo = repo.clone();
                tokio::spawn(async move {
                    for _ in 0..writes / 64 {
                        repo.insert(new_note()).await.expect("insert");
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("join");
        }
        (writes / 64 * 64) as f64 / start.elapsed().as_secs_f64()
    };
    let mut local = Vec::new();
    let mut forwarded = Vec::new();
    for _ in 0..3 {
        local.push(concurrent(primary.clone()).await);
        forwarded.push(concurrent(replica.clone()).await);
    }
    local.sort_by(f64::total_cmp);
    forwarded.sort_by(f64::total_cmp);
    println!("64 concurrent writers, {writes} writes per run, median of 3 alternating runs");
    println!("local on the primary      {:>8.0} writes/s", local[1]);
    println!("forwarded from a replica  {:>8.0} writes/s", forwarded[1]);
    println!("forwarded / local = {:.3}", forwarded[1] / local[1]);
}
