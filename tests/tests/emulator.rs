//! The LiteFS emulator looks like LiteFS to the application: `.primary`, `<db>-pos`, `/info`
//! and `/events`; it replicates with lag, fails over, and the whole forwarding stack runs
//! on it, trackers following its HTTP API.

use std::time::Duration;

use blog_example::entities::tag;
use migrations::{Migrator, MigratorTrait};
use repo_litefs::emulator::LiteFsEmulator;
use repo_litefs::tracker::{PrimaryTracker, Role, TrackerConfig};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, OnLag, ReadYourWrites,
    ServerConfig,
};
use repo_tests::cluster::{SECRET, blog_builder};
use sea_orm::{Database, EntityTrait, Set};

async fn settle(tracker: &PrimaryTracker, role: Role, primary: &str) {
    let mut changes = tracker.subscribe();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let state = tracker.current();
            if state.role == role && state.primary.as_deref() == Some(primary) {
                return;
            }
            changes.changed().await.expect("tracker alive");
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "tracker never reached {role:?} of {primary}: {:?}",
            tracker.current()
        )
    });
}

fn pos_txid(path: &std::path::Path) -> u64 {
    let text = std::fs::read_to_string(path).expect("pos file");
    assert_eq!(text.len(), 34, "{text:?}");
    let (txid, checksum) = text.trim_end().split_once('/').expect("txid/checksum");
    assert!(
        text.ends_with('\n') && txid.len() == 16 && checksum.len() == 16,
        "{text:?}"
    );
    u64::from_str_radix(txid, 16).expect("hex")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_node_cluster_on_the_emulator() {
    let dir = tempfile::tempdir().expect("dir");
    let emulator = LiteFsEmulator::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        "blog.db",
        Duration::from_millis(5),
    )
    .await
    .expect("emulator");
    let node = |name: &str| emulator.node(name).expect("node").clone();

    // The files look like LiteFS's.
    assert!(
        !node("node-1").dir.join(".primary").exists(),
        "no .primary on the primary"
    );
    assert_eq!(
        std::fs::read_to_string(node("node-2").dir.join(".primary")).expect(".primary"),
        "node-1\n"
    );
    pos_txid(&node("node-3").dir.join("blog.db-pos"));

    // The primary migrates; the schema and data replicate.
    let primary_db = Database::connect(format!(
        "sqlite://{}?mode=rwc",
        node("node-1").db_path.display()
    ))
    .await
    .expect("open");
    Migrator::up(&primary_db, None).await.expect("migrate");
    assert!(emulator.wait_synced(Duration::from_secs(10)).await);
    assert!(pos_txid(&node("node-2").dir.join("blog.db-pos")) >= 1);

    // Every node runs the stack, its tracker following the emulator's HTTP API.
    let secret = ClusterSecret::new(SECRET).expect("secret");
    let mut listeners = Vec::new();
    for _ in 0..3 {
        listeners.push(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        );
    }
    let endpoints = Endpoints::map(
        ["node-1", "node-2", "node-3"]
            .iter()
            .zip(&listeners)
            .map(|(n, l)| (*n, format!("http://{}", l.local_addr().expect("addr")))),
    );
    let mut repos = Vec::new();
    let mut trackers = Vec::new();
    for (name, listener) in ["node-1", "node-2", "node-3"].into_iter().zip(listeners) {
        let mode = if name == "node-1" { "rwc" } else { "ro" };
        let db = Database::connect(format!(
            "sqlite://{}?mode={mode}",
            node(name).db_path.display()
        ))
        .await
        .expect("open");
        let tracker = PrimaryTracker::spawn(
            TrackerConfig::new()
                .api_url(node(name).api_url)
                .reconnect_delay(Duration::from_millis(20)),
        );
        let forward = ForwardLayer::new(
            ForwardConfig::new(tracker.clone(), endpoints.clone(), secret.clone(), name)
                .read_your_writes(
                    ReadYourWrites::new(db.clone())
                        .wait(Duration::from_secs(5))
                        .on_lag(OnLag::Fail),
                ),
        );
        let repo = blog_builder(db).layer(forward).build();
        let server = ForwardServer::new(
            repo.executor(),
            tracker.clone(),
            ServerConfig::new(secret.clone(), name),
        );
        tokio::spawn(server.serve(listener, std::future::pending()));
        repos.push(repo);
        trackers.push(tracker);
    }
    settle(&trackers[0], Role::Primary, "node-1").await;
    settle(&trackers[1], Role::Replica, "node-1").await;
    settle(&trackers[2], Role::Replica, "node-1").await;

    // A write on a replica is forwarded, and read back there right away.
    let written = repos[2]
        .insert(tag::ActiveModel {
            name: Set("via-node-3".into()),
            ..Default::default()
        })
        .await
        .expect("forwarded");
    assert_eq!(
        repos[2].get::<tag::Entity>(written.id).await.expect("read"),
        Some(written)
    );

    // Failover to node-2: the emulator rewrites `.primary` and announces it on /events.
    assert!(emulator.wait_synced(Duration::from_secs(10)).await);
    emulator.promote("node-2").expect("promote");
    assert_eq!(
        std::fs::read_to_string(node("node-1").dir.join(".primary")).expect(".primary"),
        "node-2\n"
    );
    assert!(!node("node-2").dir.join(".primary").exists());
    settle(&trackers[1], Role::Primary, "node-2").await;
    settle(&trackers[0], Role::Replica, "node-2").await;
    settle(&trackers[2], Role::Replica, "node-2").await;

    // Stopping a node turns its API off.
    emulator.stop("node-3");
    let status = reqwest_status(&format!("{}/info", node("node-3").api_url)).await;
    assert_eq!(status, 503);
    let status = reqwest_status(&format!("{}/info", node("node-1").api_url)).await;
    assert_eq!(status, 200);
    drop(emulator);
    let _ = tag::Entity::find()
        .all(&primary_db)
        .await
        .expect("primary still readable");
}

async fn reqwest_status(url: &str) -> u16 {
    let uri: tonic::codegen::http::Uri = url.parse().expect("uri");
    let host = uri.authority().expect("authority").to_string();
    let mut stream = tokio::net::TcpStream::connect(&host)
        .await
        .expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            format!(
                "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
                uri.path()
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn lag_ms(path: &std::path::Path) -> i64 {
    let text = std::fs::read_to_string(path).expect(".lag");
    assert!(
        text.len() == 11 && text.ends_with('\n') && text.starts_with(['+', '-']),
        "LiteFS's %+010d format: {text:?}"
    );
    text.trim_end().parse().expect("milliseconds")
}

/// Polls `.lag` until `ok` holds (bounded), returning the last value.
async fn lag_until(path: &std::path::Path, ok: impl Fn(i64) -> bool) -> i64 {
    let until = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lag = lag_ms(path);
        if ok(lag) || std::time::Instant::now() >= until {
            return lag;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_files_follow_heartbeats_and_partitions() {
    let dir = tempfile::tempdir().expect("dir");
    let emulator = LiteFsEmulator::start(
        dir.path(),
        &["node-1", "node-2"],
        "blog.db",
        Duration::from_millis(5),
    )
    .await
    .expect("emulator");
    let lag_file = |name: &str| emulator.node(name).expect("node").dir.join(".lag");
    assert_eq!(
        lag_until(&lag_file("node-1"), |l| l == 0).await,
        0,
        "primary"
    );
    assert!(lag_until(&lag_file("node-2"), |l| l < 1000).await < 1000);

    emulator.partition("node-2");
    let cut_off = lag_until(&lag_file("node-2"), |l| l > 1500).await;
    assert!(cut_off > 1500, "no heartbeats while partitioned: {cut_off}");
    emulator.heal("node-2");
    let healed = lag_until(&lag_file("node-2"), |l| l < 1000).await;
    assert!(healed < 1000, "heartbeats again after healing: {healed}");
    assert_eq!(lag_ms(&lag_file("node-1")), 0);
}
