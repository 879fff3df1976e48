//! The blog's node processes on PostgreSQL (`blog-example node --database-url`, as
//! deployed): `pg-1` on a real primary server, `pg-2` on a streaming standby of it
//! (`repo_tests::postgres`). A post created through the standby's HTTP API is written once
//! on the primary and reads back at once from the standby (read-your-writes by LSN); a
//! comment sent over the standby's WebSocket reaches a viewer of the post on the primary's
//! node. `/health` reports PostgreSQL's replication lag (0 on the primary and on a
//! caught-up standby, growing while the standby's replay is paused) and names nothing of
//! LiteFS. Skips like the other PostgreSQL tests (`CI_REQUIRE_POSTGRES`).

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use blog_example::process_cluster::{ChildNode, PostgresNodeSpec, spawn_postgres_node};
use futures::{SinkExt, StreamExt};
use repo_tests::postgres::PgCluster;
use serde_json::{Value, json};
use support::socket::http;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text message as JSON; fails the test if none comes within ten seconds.
async fn next_json(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), client.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("JSON message");
        }
    }
}

/// `GET path` on `node` as JSON, expecting 200.
async fn get_json(node: &ChildNode, path: &str) -> Value {
    let (status, body) = http(node.http_addr, "GET", path, None).await;
    assert_eq!(status, 200, "{} {path}: {body}", node.name);
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}"))
}

/// `/health`'s `replication_lag` of `node`, after checking it names nothing of LiteFS.
async fn lag(node: &ChildNode) -> Value {
    let health = get_json(node, "/health").await;
    let text = health.to_string().to_lowercase();
    assert!(
        !text.contains("litefs") && !text.contains("mount") && !text.contains(".lag"),
        "{}: {health}",
        node.name
    );
    health["replication_lag"].clone()
}

/// Polls `node`'s lag until `done` holds, for at most ten seconds.
async fn lag_until(node: &ChildNode, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let lag = lag(node).await;
        if done(&lag) {
            return lag;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}: {what} within 10 s; last {lag}",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the series `name{labels}` on a scraped `/metrics` page.
fn series(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Writes `node` forwarded, from its own `/metrics`.
async fn forwarded(node: &ChildNode) -> f64 {
    let (_, page) = http(node.http_addr, "GET", "/metrics", None).await;
    let name = format!("blog_writes_forwarded_total{{node=\"{}\"}}", node.name);
    series(&page, &name).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blog_on_a_postgres_standby_forwards_and_reads_its_writes_at_once() {
    let Some(cluster) = tokio::task::spawn_blocking(PgCluster::start_or_skip)
        .await
        .expect("the cluster's set-up")
    else {
        return;
    };
    let mut grpc: Vec<SocketAddr> = Vec::new();
    for _ in 0..2 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        grpc.push(listener.local_addr().expect("addr"));
    }
    let endpoints = format!("pg-1=http://{},pg-2=http://{}", grpc[0], grpc[1]);
    let program = Path::new(env!("CARGO_BIN_EXE_blog-example"));
    // The primary's node first: it migrates; the standby's waits for the schema to replay.
    let mut nodes = Vec::new();
    for (name, url, grpc_addr) in [
        ("pg-1", cluster.primary.url(), grpc[0]),
        ("pg-2", cluster.standby.url(), grpc[1]),
    ] {
        let spec = PostgresNodeSpec {
            name: name.to_owned(),
            database_url: url,
            primary: "pg-1".to_owned(),
            grpc_addr,
        };
        let node = spawn_postgres_node(program, spec, &endpoints, repo_tests::cluster::SECRET)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        nodes.push(node);
    }
    let (primary, standby) = (&nodes[0], &nodes[1]);
    let health = get_json(standby, "/health").await;
    assert_eq!(health["role"], "replica", "{health}");
    assert_eq!(health["primary"], "pg-1", "{health}");
    assert_eq!(get_json(primary, "/health").await["role"], "primary");

    // A post through the standby's HTTP API, read back from the standby at once.
    let post = json!({
        "title": "On PostgreSQL",
        "slug": "on-postgres",
        "body": "Written on the primary, read on the standby.",
        "tags": ["pg", "replicas"],
    })
    .to_string();
    let (status, body) = http(standby.http_addr, "POST", "/api/posts", Some(&post)).await;
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).expect("JSON");
    let id = created["id"].as_i64().expect("an id");
    let detail = get_json(standby, &format!("/api/posts/{id}")).await;
    assert_eq!(detail["post"]["slug"], "on-postgres", "{detail}");
    assert_eq!(detail["tags"], json!(["pg", "replicas"]), "{detail}");
    let on_primary = cluster
        .primary
        .psql("SELECT count(*) FROM posts WHERE slug = 'on-postgres'")
        .expect("psql");
    assert_eq!(on_primary, "1", "written once, on the primary");

    // A comment over the standby's WebSocket reaches a viewer on the primary's node.
    let ws = |node: &ChildNode| format!("ws://{}/posts/{id}/ws", node.http_addr);
    let (mut viewer, _) = connect_async(ws(primary)).await.expect("viewer");
    let (mut writer, _) = connect_async(ws(standby)).await.expect("writer");
    let comment = json!({ "author": "standby", "body": "live from pg-2" }).to_string();
    writer.send(Message::text(comment)).await.expect("send");
    let echoed = next_json(&mut writer).await;
    assert_eq!(echoed["body"], "live from pg-2", "{echoed}");
    let seen = next_json(&mut viewer).await;
    assert_eq!(seen["body"], "live from pg-2", "{seen}");
    assert_eq!(seen["id"], echoed["id"]);
    let detail = get_json(standby, &format!("/api/posts/{id}")).await;
    assert_eq!(detail["comments"][0]["body"], "live from pg-2", "{detail}");

    // Both writes were forwarded by the standby's node, none by the primary's.
    assert_eq!(forwarded(standby).await, 2.0);
    assert_eq!(forwarded(primary).await, 0.0);

    // The lag is PostgreSQL's: 0 on the primary; on the standby, 0 once caught up, and
    // growing while its replay is paused behind a write it received.
    assert_eq!(
        lag(primary).await,
        json!({"ms": 0, "status": "reported", "reason": null})
    );
    let zero = |lag: &Value| lag["ms"] == 0 && lag["status"] == "reported";
    lag_until(standby, "caught up", zero).await;
    cluster
        .standby
        .psql("SELECT pg_wal_replay_pause()")
        .expect("pause replay");
    cluster
        .primary
        .psql("CREATE TABLE lag_probe (x int)")
        .expect("a write to replay");
    let behind = lag_until(standby, "behind", |lag| {
        lag["ms"].as_i64().is_some_and(|ms| ms > 0)
    })
    .await;
    assert_eq!(behind["status"], "reported", "{behind}");
    cluster
        .standby
        .psql("SELECT pg_wal_replay_resume()")
        .expect("resume replay");
    lag_until(standby, "caught up again", zero).await;
    drop(nodes);
    drop(cluster);
}
