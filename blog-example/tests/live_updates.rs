//! Live comments across the cluster: a viewer on any node sees a comment written through any
//! other node exactly once, as it replicates into that node's own database, also across a
//! failover, and a viewer that reconnects with the last id it saw misses nothing.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use blog_example::local_cluster::{self, LocalCluster};
use futures::{SinkExt, StreamExt};
use repo_litefs::tracker::Role;
use serde_json::{Value, json};
use support::socket::http;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn watch(addr: SocketAddr, post_id: i64, after: i64) -> Client {
    let (client, _) = connect_async(format!("ws://{addr}/posts/{post_id}/ws?after={after}"))
        .await
        .expect("connect");
    client
}

/// The next comment pushed to `client`; fails the test if none comes within ten seconds.
async fn next_comment(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), client.next())
            .await
            .expect("a message within 10s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(text.as_str()).expect("JSON message");
            assert!(value.get("error").is_none(), "an error came: {value}");
            return value;
        }
    }
}

async fn comment_over_http(addr: SocketAddr, post_id: i64, body: &str) -> i64 {
    let (status, reply) = http(
        addr,
        "POST",
        &format!("/api/posts/{post_id}/comments"),
        Some(&json!({ "author": "http", "body": body }).to_string()),
    )
    .await;
    assert_eq!(status, 201, "{reply}");
    let reply: Value = serde_json::from_str(&reply).expect("json");
    reply["id"].as_i64().expect("id")
}

/// Every socket's next comments are exactly `bodies`, in order: a repeat would come first.
async fn all_receive(sockets: &mut [Client], bodies: &[&str]) -> i64 {
    let mut last = 0;
    for (i, socket) in sockets.iter_mut().enumerate() {
        for body in bodies {
            let got = next_comment(socket).await;
            assert_eq!(got["body"], *body, "socket {i}: {got}");
            last = got["id"].as_i64().expect("id");
        }
    }
    last
}

async fn wait_for_role(cluster: &LocalCluster, primary: &str) {
    for node in &cluster.nodes {
        let tracker = node.node.tracker().clone();
        let expected = if node.name == primary {
            Role::Primary
        } else {
            Role::Replica
        };
        tokio::time::timeout(Duration::from_secs(10), async move {
            while tracker.current().role != expected
                || tracker.current().primary.as_deref() != Some(primary)
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} follows the promotion", node.name));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comment_through_any_node_reaches_every_node_once_across_a_failover() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = local_cluster::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(5),
        None,
    )
    .await
    .expect("cluster");
    let addrs: Vec<SocketAddr> = cluster.nodes.iter().map(|n| n.http_addr).collect();
    let (status, body) = http(
        addrs[1],
        "POST",
        "/api/posts",
        Some(r#"{"title":"Live","slug":"live","body":"Watch.","tags":[]}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let post: Value = serde_json::from_str(&body).expect("json");
    let post_id = post["id"].as_i64().expect("id");
    // The post must have replicated to every node before a socket there can watch it.
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);

    let mut sockets = Vec::new();
    for addr in &addrs {
        sockets.push(watch(*addr, post_id, 0).await);
    }

    // Through node-2's socket (a replica): forwarded to node-1, replicated to node-3.
    sockets[1]
        .send(Message::text(
            json!({ "author": "ws", "body": "first" }).to_string(),
        ))
        .await
        .expect("send");
    // The socket's write is handled asynchronously: let it reach the primary before the
    // next one, so that the two comments have a known order.
    let mut stored = false;
    for _ in 0..200 {
        let (status, body) = http(addrs[0], "GET", &format!("/api/posts/{post_id}"), None).await;
        assert_eq!(status, 200, "{body}");
        let detail: Value = serde_json::from_str(&body).expect("json");
        if detail["comments"].as_array().is_some_and(|c| !c.is_empty()) {
            stored = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(stored, "the socket's comment was stored");
    // Through node-3 over HTTP; on every socket the second comment comes right after the
    // first, so neither was pushed twice.
    comment_over_http(addrs[2], post_id, "second").await;
    all_receive(&mut sockets, &["first", "second"]).await;

    // Failover: node-3 becomes the primary; node-1, demoted, forwards.
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    cluster.emulator.promote("node-3").expect("promote");
    wait_for_role(&cluster, "node-3").await;
    comment_over_http(addrs[0], post_id, "after the failover").await;
    comment_over_http(addrs[2], post_id, "on the new primary").await;
    let last = all_receive(&mut sockets, &["after the failover", "on the new primary"]).await;

    // A viewer of node-2 drops off; two comments are written meanwhile; it reconnects with
    // the last id it saw and gets exactly those two, then the live ones.
    drop(sockets.remove(1));
    comment_over_http(addrs[0], post_id, "missed one").await;
    comment_over_http(addrs[2], post_id, "missed two").await;
    let mut back = watch(addrs[1], post_id, last).await;
    comment_over_http(addrs[1], post_id, "live again").await;
    for expected in ["missed one", "missed two", "live again"] {
        assert_eq!(next_comment(&mut back).await["body"], expected);
    }
}

async fn api(addr: SocketAddr, path: &str, body: &str) -> Value {
    let (status, reply) = http(addr, "POST", path, Some(body)).await;
    assert!(status == 200 || status == 201, "{path}: {status} {reply}");
    serde_json::from_str(&reply).expect("json")
}

async fn next_post(client: &mut Client) -> Value {
    next_comment(client).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_published_through_any_node_reaches_every_nodes_list_once() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = local_cluster::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(5),
        None,
    )
    .await
    .expect("cluster");
    let addrs: Vec<SocketAddr> = cluster.nodes.iter().map(|n| n.http_addr).collect();
    let mut sockets = Vec::new();
    for addr in &addrs {
        let (client, _) = connect_async(format!("ws://{addr}/ws"))
            .await
            .expect("connect");
        sockets.push(client);
    }
    let draft =
        |slug: &str| json!({ "title": slug, "slug": slug, "body": "b", "tags": [] }).to_string();
    // Two drafts, published in the other order: drafts are not announced, publications are,
    // in the order they happened.
    let a = api(addrs[1], "/api/posts", &draft("first-draft")).await;
    let b = api(addrs[2], "/api/posts", &draft("second-draft")).await;
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    api(addrs[2], &format!("/api/posts/{}/publish", b["id"]), "").await;
    api(addrs[0], &format!("/api/posts/{}/publish", a["id"]), "").await;
    for (i, socket) in sockets.iter_mut().enumerate() {
        assert_eq!(next_post(socket).await["slug"], "second-draft", "node {i}");
        assert_eq!(next_post(socket).await["slug"], "first-draft", "node {i}");
    }
    // And nothing twice: the next one is the next publication.
    let c = api(addrs[0], "/api/posts", &draft("third")).await;
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    api(addrs[1], &format!("/api/posts/{}/publish", c["id"]), "").await;
    for socket in &mut sockets {
        assert_eq!(next_post(socket).await["slug"], "third");
    }
}
