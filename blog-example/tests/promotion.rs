//! A running blog node follows a failover without a restart: the emulator moves the primary
//! role to a replica; that node then executes writes itself, and the demoted node forwards
//! its writes to it.

use std::time::Duration;

mod support;

use blog_example::entities::post;
use blog_example::local_cluster;
use repo_litefs::tracker::Role;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use support::socket::http;

fn new_post(slug: &str) -> String {
    format!(r#"{{"title":"Post {slug}","slug":"{slug}","body":"After the failover.","tags":[]}}"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promoted_node_writes_and_the_demoted_one_forwards_without_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = local_cluster::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(5),
        None,
    )
    .await
    .expect("cluster");
    let (old, new) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (status, body) = http(
        old.http_addr,
        "POST",
        "/api/posts",
        Some(&new_post("before")),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);

    cluster.emulator.promote("node-2").expect("promote");
    for node in &cluster.nodes {
        let tracker = node.node.tracker().clone();
        let expected = if node.name == "node-2" {
            Role::Primary
        } else {
            Role::Replica
        };
        tokio::time::timeout(Duration::from_secs(10), async move {
            while tracker.current().role != expected
                || tracker.current().primary.as_deref() != Some("node-2")
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{} follows the promotion", node.name));
    }

    // The promoted node writes itself: its repository executes locally (its file was opened
    // read-write at start, as a replica).
    let (status, body) = http(
        new.http_addr,
        "POST",
        "/api/posts",
        Some(&new_post("on-new")),
    )
    .await;
    assert_eq!(status, 201, "the promoted node writes: {body}");
    // The demoted node forwards to the new primary.
    let (status, body) = http(
        old.http_addr,
        "POST",
        "/api/posts",
        Some(&new_post("via-old")),
    )
    .await;
    assert_eq!(status, 201, "the demoted node forwards: {body}");
    let (status, body) = http(old.http_addr, "GET", "/api/posts", None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("via-old"),
        "read back on the demoted node: {body}"
    );

    for slug in ["before", "on-new", "via-old"] {
        let found = post::Entity::find()
            .filter(post::Column::Slug.eq(slug))
            .all(&new.db)
            .await
            .expect("read");
        assert_eq!(found.len(), 1, "{slug} is on the new primary once");
    }
    assert_eq!(
        new.node.health().role,
        Role::Primary,
        "health follows the role"
    );
}
