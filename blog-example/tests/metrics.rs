//! Each node's `/metrics` is its own: the local cluster's nodes are processes of their own
//! (`blog-example node`), each page says which node it is, the role gauge is 1 on the
//! primary only, latencies are histograms, and forwarded writes count on the replica that
//! forwarded them, not elsewhere.

mod support;

use std::time::Duration;

use blog_example::process_cluster;
use support::socket::http;

/// The value of the series `name{labels}` on a scraped page (labels in page order).
fn value(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_reports_its_own_role_and_writes() {
    let dir = tempfile::tempdir().expect("dir");
    let cluster = process_cluster::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_blog-example")),
        dir.path(),
        &["node-1", "node-2", "node-3"],
        Duration::from_millis(5),
        blog_example::local_durability::DEFAULT,
    )
    .await
    .expect("cluster");
    let [primary, replica, other] = [0, 1, 2].map(|i| cluster.nodes[i].http_addr);

    // Before any write: every gauge and write counter is there, with this node's label.
    for node in &cluster.nodes {
        let (status, page) = http(node.http_addr, "GET", "/metrics", None).await;
        assert_eq!(status, 200);
        let label = format!("{{node=\"{}\"}}", node.name);
        let is_primary = value(&page, &format!("litefs_is_primary{label}"));
        let expected = if node.name == "node-1" { 1.0 } else { 0.0 };
        assert_eq!(is_primary, Some(expected), "{}: {page}", node.name);
        for counter in [
            "blog_writes_forwarded_total",
            "blog_writes_refused_total",
            "blog_writes_failed_total",
            "litefs_ledger_duplicates_total",
        ] {
            assert_eq!(
                value(&page, &format!("{counter}{label}")),
                Some(0.0),
                "{counter} on {}",
                node.name
            );
        }
        assert!(page.contains("repo_circuit_state{"), "{page}");
    }

    let post = r#"{"title":"Counted","slug":"counted","body":"Once.","tags":[]}"#;
    let (status, body) = http(replica, "POST", "/api/posts", Some(post)).await;
    assert_eq!(status, 201, "{body}");
    let local = r#"{"title":"Here","slug":"here","body":"On the primary.","tags":[]}"#;
    let (status, body) = http(primary, "POST", "/api/posts", Some(local)).await;
    assert_eq!(status, 201, "{body}");

    let (_, on_replica) = http(replica, "GET", "/metrics", None).await;
    let (_, on_primary) = http(primary, "GET", "/metrics", None).await;
    let (_, on_other) = http(other, "GET", "/metrics", None).await;
    assert_eq!(
        value(&on_replica, "blog_writes_forwarded_total{node=\"node-2\"}"),
        Some(1.0),
        "{on_replica}"
    );
    assert_eq!(
        value(&on_primary, "blog_writes_forwarded_total{node=\"node-1\"}"),
        Some(0.0),
        "{on_primary}"
    );
    assert_eq!(
        value(&on_other, "blog_writes_forwarded_total{node=\"node-3\"}"),
        Some(0.0),
        "{on_other}"
    );
    // Latencies are histograms (buckets add up across nodes; summaries do not).
    assert!(
        on_replica
            .lines()
            .any(|l| l.starts_with("repo_call_duration_seconds_bucket{")
                && l.contains("route=\"forwarded\"")
                && l.contains("le=\"+Inf\"")),
        "forwarded write latency as a histogram: {on_replica}"
    );
    assert!(
        on_primary
            .lines()
            .any(|l| l.starts_with("repo_call_duration_seconds_bucket{")
                && l.contains("route=\"local\"")),
        "local write latency as a histogram: {on_primary}"
    );
    assert!(
        !on_primary.contains("route=\"forwarded\",outcome"),
        "the primary forwarded nothing: {on_primary}"
    );
    assert!(
        on_replica.contains("litefs_consistency_wait_seconds_bucket{"),
        "the read-your-writes wait as a histogram: {on_replica}"
    );
    assert!(
        !on_replica.contains("quantile="),
        "no summaries: {on_replica}"
    );
}
