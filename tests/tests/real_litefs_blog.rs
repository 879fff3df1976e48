//! The blog's node runtime (`blog_example::node`, what `blog-example node` runs) on real
//! LiteFS under FUSE: three nodes configured as in a deployment (database in the mount, the
//! node's LiteFS API, `--litefs-dir` for `.lag`). A post written through a replica's HTTP
//! API lands on the primary and reads back on that replica; a comment sent over the
//! replica's WebSocket is stored once on the primary, pushed back, and pushed live, once, to
//! viewers on the two other nodes (each node learns of it from its own FUSE-mounted file's
//! `PRAGMA data_version`, as LiteFS replicates it); `/health` reports
//! LiteFS's own replication lag and the circuit state. Skips like the other real-LiteFS tests.

use std::time::Duration;

use blog_example::entities::{comment, post};
use blog_example::node::{self, NodeConfig, RunningNode};
use futures::{SinkExt, StreamExt};
use repo_litefs::{ClusterSecret, Endpoints};
use repo_tests::cluster::SECRET;
use repo_tests::real_litefs::{DB, LiteFsCluster};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

async fn start_nodes(cluster: &LiteFsCluster) -> Vec<RunningNode> {
    let mut grpc = Vec::new();
    for _ in &cluster.nodes {
        grpc.push(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        );
    }
    let endpoints = Endpoints::map(cluster.nodes.iter().zip(&grpc).map(|(n, l)| {
        (
            n.name.clone(),
            format!("http://{}", l.local_addr().expect("addr")),
        )
    }));
    let mut nodes = Vec::new();
    // The primary first: it migrates; the replicas wait for the schema to replicate.
    for (litefs, listener) in cluster.nodes.iter().zip(grpc) {
        let config = NodeConfig {
            name: litefs.name.clone(),
            postgres: None,
            db_path: litefs.db_path(DB),
            litefs_api: Some(litefs.api_url()),
            mount_dir: Some(litefs.mount.clone()),
            grpc_addr: listener.local_addr().expect("addr"),
            http_addr: "127.0.0.1:0".parse().expect("addr"),
            endpoints: endpoints.clone(),
            secret: ClusterSecret::new(SECRET).expect("secret"),
            txid_wait: true,
            sqlite_synchronous: None,
            stop_on_stdin_close: false,
            report_commits: false,
        };
        nodes.push(
            node::start_on(config, listener, None)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", litefs.name)),
        );
    }
    nodes
}

/// The next text message on `socket`, as JSON, within 10 s.
async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str::<Value>(text.as_str()).expect("JSON");
        }
    }
}

async fn close(nodes: Vec<RunningNode>) {
    for node in nodes {
        let db = node.db.clone();
        drop(node);
        let _ = db.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blog_on_real_litefs_forwards_http_and_websocket_writes_and_reports_lag() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&["node-1", "node-2", "node-3"]).await else {
        return;
    };
    let nodes = start_nodes(&cluster).await;
    assert!(nodes[0].primary && !nodes[1].primary && !nodes[2].primary);
    let http = reqwest::Client::new();
    let replica = format!("http://{}", nodes[2].http_addr);

    let created = http
        .post(format!("{replica}/api/posts"))
        .json(&json!({"title": "On LiteFS", "slug": "on-litefs", "body": "Forwarded.", "tags": ["fuse"]}))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let read = http
        .get(format!("{replica}/api/posts/{id}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(read.status(), 200, "read back on the replica right away");
    let on_primary = post::Entity::find()
        .filter(post::Column::Slug.eq("on-litefs"))
        .all(&nodes[0].db)
        .await
        .expect("read");
    assert_eq!(on_primary.len(), 1, "stored once, on the primary");
    assert_eq!(i64::from(on_primary[0].id), id);

    // Viewers of the post on the two other nodes, connected before the comment is sent:
    // each learns of it from its own database, as LiteFS replicates it into the FUSE mount
    // (the data_version watcher on the mounted file), not from the node that took it.
    let mut viewers = Vec::new();
    for node in &nodes[..2] {
        let ws = format!("ws://{}/posts/{id}/ws", node.http_addr);
        viewers.push(connect_async(ws).await.expect("connect").0);
    }
    // The write LiteFS's proxy cannot forward: a comment over the replica's WebSocket.
    let ws = format!("ws://{}/posts/{id}/ws", nodes[2].http_addr);
    let (mut socket, _) = connect_async(ws).await.expect("connect");
    let comment = json!({"author": "fuse", "body": "Over a WebSocket."}).to_string();
    socket.send(Message::text(comment)).await.expect("send");
    let pushed = next_json(&mut socket).await;
    assert_eq!(pushed["body"], "Over a WebSocket.", "{pushed}");
    for (viewer, node) in viewers.iter_mut().zip(&nodes) {
        let live = next_json(viewer).await;
        assert_eq!(live["body"], "Over a WebSocket.", "{}: {live}", node.name);
        assert_eq!(live["id"], pushed["id"], "{}: {live}", node.name);
    }
    // Exactly once: a second comment is the next message each viewer gets.
    let second = json!({"author": "fuse", "body": "Second."}).to_string();
    socket.send(Message::text(second)).await.expect("send");
    assert_eq!(next_json(&mut socket).await["body"], "Second.");
    for (viewer, node) in viewers.iter_mut().zip(&nodes) {
        let live = next_json(viewer).await;
        assert_eq!(live["body"], "Second.", "{}: not once: {live}", node.name);
    }
    drop(viewers);
    let stored = comment::Entity::find()
        .filter(comment::Column::PostId.eq(i32::try_from(id).expect("i32")))
        .all(&nodes[0].db)
        .await
        .expect("comments");
    assert_eq!(stored.len(), 2, "each stored once, on the primary");
    let on_replica = comment::Entity::find_by_id(stored[0].id)
        .one(&nodes[2].db)
        .await
        .expect("read on the replica");
    assert_eq!(
        on_replica.map(|c| c.body).as_deref(),
        Some("Over a WebSocket."),
        "on the replica when its push came"
    );
    drop(socket);

    for (node, role) in [(&nodes[0], "primary"), (&nodes[1], "replica")] {
        let health: Value = http
            .get(format!("http://{}/health", node.http_addr))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("json");
        assert_eq!(health["role"], role, "{health}");
        assert_eq!(health["primary"], "node-1", "{health}");
        assert_eq!(health["circuit"], "closed", "{health}");
        assert_eq!(
            health["replication_lag"]["status"], "reported",
            "read from LiteFS's .lag: {health}"
        );
        let lag = health["replication_lag"]["ms"].as_i64().expect("ms");
        if role == "primary" {
            assert_eq!(lag, 0, "LiteFS reports no lag on the primary: {health}");
        }
    }
    close(nodes).await;
    cluster.shutdown().await;
}
