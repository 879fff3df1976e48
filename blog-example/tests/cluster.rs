//! The local cluster end to end: an HTTP write to a replica lands on the primary and is
//! readable from the same replica right after the response.

use std::time::Duration;

mod support;

use blog_example::entities::post;
use blog_example::local_cluster;
use sea_orm::EntityTrait;
use support::socket::http;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_a_replica_is_on_the_primary_and_read_back_on_the_replica() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = local_cluster::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(5),
        None,
    )
    .await
    .expect("cluster");
    assert!(cluster.nodes[0].primary && !cluster.nodes[1].primary && !cluster.nodes[2].primary);
    let replica = cluster.nodes[2].http_addr;

    let (status, body) = http(
        replica,
        "POST",
        "/api/posts",
        Some(r#"{"title":"From a replica","slug":"from-a-replica","body":"Forwarded.","tags":["litefs"]}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("json");
    let id = created["id"].as_i64().expect("id");

    let (status, body) = http(replica, "GET", &format!("/api/posts/{id}"), None).await;
    assert_eq!(
        status, 200,
        "read back on the same replica right away: {body}"
    );
    assert!(
        body.contains("From a replica") && body.contains("litefs"),
        "{body}"
    );

    let on_primary = post::Entity::find_by_id(i32::try_from(id).expect("i32"))
        .one(&cluster.nodes[0].db)
        .await
        .expect("read");
    assert_eq!(
        on_primary.map(|p| p.slug),
        Some("from-a-replica".to_owned())
    );

    let (status, body) = http(replica, "GET", "/health", None).await;
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&body).expect("health json");
    assert_eq!(health["role"], "replica", "{body}");
    assert_eq!(health["primary"], "node-1", "{body}");
    assert_eq!(health["circuit"], "closed", "{body}");
    assert_eq!(health["replication_lag"]["status"], "reported", "{body}");
    let lag = health["replication_lag"]["ms"].as_i64().expect("lag in ms");
    assert!(lag >= 0, "the emulator's .lag, as LiteFS writes it: {body}");
}

/// A publication that loses a race with one through another node is a `409`, not a `500`:
/// the replica still sees the draft (the winner's write has not replicated there yet), so
/// only the primary's refusal says it is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_a_post_just_published_through_another_node_is_a_conflict() {
    let dir = tempfile::tempdir().expect("dir");
    // A lag long enough that the primary's publication is not on the replica yet when
    // the replica is asked right after.
    let cluster = local_cluster::start(
        dir.path(),
        &["node-1", "node-2"],
        Duration::from_secs(2),
        None,
    )
    .await
    .expect("cluster");
    let [primary, replica] = [0, 1].map(|i| cluster.nodes[i].http_addr);
    let (status, body) = http(
        replica,
        "POST",
        "/api/posts",
        Some(r#"{"title":"Raced","slug":"raced","body":"Twice."}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("json");
    let publish = format!("/api/posts/{}/publish", created["id"]);

    let (status, body) = http(primary, "POST", &publish, Some("{}")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(replica, "POST", &publish, Some("{}")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already published"), "{body}");
}
