//! The API's `Idempotency-Key` header on a three-node cluster: a request replayed with the
//! same key through any node gets the first answer (same status and body) and writes once,
//! also after the client dropped the first connection; the same key with another body is
//! a `422` that shows nothing of the first; a malformed key is a `400`.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use blog_example::local_cluster::{self, LocalCluster};
use serde_json::{Value, json};
use support::socket::{http, http_with, request_bytes};
use tokio::io::AsyncWriteExt;

async fn cluster(dir: &std::path::Path) -> LocalCluster {
    local_cluster::start(
        dir,
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(5),
        None,
    )
    .await
    .expect("cluster")
}

fn post_body(slug: &str, title: &str) -> String {
    json!({ "title": title, "slug": slug, "body": "text", "tags": ["t"] }).to_string()
}

async fn post_with_key(addr: SocketAddr, key: &str, body: &str) -> (u16, String) {
    http_with(
        addr,
        "POST",
        "/api/posts",
        Some(body),
        &[("Idempotency-Key", key)],
    )
    .await
}

/// How many posts the primary has with `slug`.
async fn posts_with_slug(primary: SocketAddr, slug: &str) -> usize {
    let (status, list) = http(primary, "GET", "/api/posts", None).await;
    assert_eq!(status, 200, "{list}");
    let list: Value = serde_json::from_str(&list).expect("json");
    list.as_array()
        .expect("array")
        .iter()
        .filter(|p| p["slug"] == slug)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_replayed_through_any_node_answers_the_same_and_writes_once() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = cluster(dir.path()).await;
    let [primary, replica_a, replica_b] = [0, 1, 2].map(|i| cluster.nodes[i].http_addr);

    let body = post_body("keyed", "First");
    let first = post_with_key(replica_a, "post-1", &body).await;
    assert_eq!(first.0, 201, "{}", first.1);
    for node in [replica_b, primary, replica_a] {
        let again = post_with_key(node, "post-1", &body).await;
        assert_eq!(again, first, "a replay gets the first answer");
    }
    assert_eq!(posts_with_slug(primary, "keyed").await, 1);

    // The same key with another body: 422, nothing of the first answer, nothing written.
    let other = post_with_key(replica_b, "post-1", &post_body("other", "Second")).await;
    assert_eq!(other.0, 422, "{}", other.1);
    assert!(other.1.contains("Idempotency-Key"), "{}", other.1);
    assert!(
        !other.1.contains("First") && !other.1.contains("keyed"),
        "{}",
        other.1
    );
    assert_eq!(posts_with_slug(primary, "other").await, 0);

    // Comments and publishing, the same way.
    let post: Value = serde_json::from_str(&first.1).expect("json");
    let id = post["id"].as_i64().expect("id");
    let comment = json!({ "author": "a", "body": "hello" }).to_string();
    let path = format!("/api/posts/{id}/comments");
    let once = http_with(
        replica_a,
        "POST",
        &path,
        Some(&comment),
        &[("Idempotency-Key", "c-1")],
    )
    .await;
    assert_eq!(once.0, 201, "{}", once.1);
    let twice = http_with(
        replica_b,
        "POST",
        &path,
        Some(&comment),
        &[("Idempotency-Key", "c-1")],
    )
    .await;
    assert_eq!(twice, once);
    let publish = format!("/api/posts/{id}/publish");
    let published = http_with(
        replica_a,
        "POST",
        &publish,
        None,
        &[("Idempotency-Key", "p-1")],
    )
    .await;
    assert_eq!(published.0, 200, "{}", published.1);
    let replayed = http_with(
        replica_b,
        "POST",
        &publish,
        None,
        &[("Idempotency-Key", "p-1")],
    )
    .await;
    assert_eq!(replayed, published, "a replayed publication is not a 409");
    let unkeyed = http(replica_b, "POST", &publish, None).await;
    assert_eq!(
        unkeyed.0, 409,
        "without a key it is a second publication: {}",
        unkeyed.1
    );

    // Malformed keys.
    for key in ["", "has space", &"k".repeat(256)] {
        let (status, reply) = post_with_key(primary, key, &post_body("bad-key", "x")).await;
        assert_eq!(status, 400, "{key:?}: {reply}");
        assert!(reply.contains("Idempotency-Key"), "{reply}");
    }
    assert_eq!(posts_with_slug(primary, "bad-key").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_dropped_connection_creates_one_post() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = cluster(dir.path()).await;
    let [primary, replica_a, replica_b] = [0, 1, 2].map(|i| cluster.nodes[i].http_addr);
    let body = post_body("dropped", "Dropped");
    // The client sends the request and goes away without reading the answer: the write may
    // or may not have happened.
    let mut stream = tokio::net::TcpStream::connect(replica_a)
        .await
        .expect("connect");
    let request = request_bytes(
        replica_a,
        "POST",
        "/api/posts",
        Some(&body),
        &[("Idempotency-Key", "drop-1")],
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    drop(stream);
    // It retries through another replica, then once more.
    let retry = post_with_key(replica_b, "drop-1", &body).await;
    assert_eq!(retry.0, 201, "{}", retry.1);
    let again = post_with_key(replica_a, "drop-1", &body).await;
    assert_eq!(again, retry);
    assert_eq!(posts_with_slug(primary, "dropped").await, 1);
}
