//! The blog's node processes (`blog-example node`, as deployed) on real LiteFS under FUSE:
//! each node's `/metrics` is its own and its role gauge follows LiteFS's lease
//! (`litefs_is_primary 1` on the primary only), and a write through a replica counts as
//! forwarded on that replica only. Skips like the other real-LiteFS tests
//! (`LITEFS_BIN`, `CI_REQUIRE_LITEFS`).

mod support;

use std::path::Path;

use blog_example::process_cluster::{self, NodeSpec};
use repo_tests::real_litefs::{DB, LiteFsCluster};
use support::socket::http;

/// The value of the series `name{labels}` on a scraped page.
fn value(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_node_process_reports_its_own_role_on_real_litefs() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&["node-1", "node-2", "node-3"]).await else {
        return;
    };
    let mut grpc = Vec::new();
    for _ in &cluster.nodes {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        grpc.push(listener.local_addr().expect("addr"));
    }
    let endpoints = cluster
        .nodes
        .iter()
        .zip(&grpc)
        .map(|(n, addr)| format!("{}=http://{addr}", n.name))
        .collect::<Vec<_>>()
        .join(",");
    // The primary first: it migrates; the replicas wait for the schema to replicate.
    let mut nodes = Vec::new();
    for (litefs, grpc_addr) in cluster.nodes.iter().zip(grpc) {
        let spec = NodeSpec {
            name: litefs.name.clone(),
            db_path: litefs.db_path(DB),
            litefs_api: litefs.api_url(),
            litefs_dir: litefs.mount.clone(),
            grpc_addr,
            synchronous: None,
        };
        let program = Path::new(env!("CARGO_BIN_EXE_blog-example"));
        nodes.push(
            process_cluster::spawn_node(program, spec, &endpoints, repo_tests::cluster::SECRET)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", litefs.name)),
        );
    }
    let primary = cluster.primary().name.clone();
    for node in &nodes {
        let (status, page) = http(node.http_addr, "GET", "/metrics", None).await;
        assert_eq!(status, 200);
        let expected = if node.name == primary { 1.0 } else { 0.0 };
        let series = format!("litefs_is_primary{{node=\"{}\"}}", node.name);
        assert_eq!(
            value(&page, &series),
            Some(expected),
            "{}: {page}",
            node.name
        );
    }

    let replica = nodes.iter().find(|n| n.name != primary).expect("a replica");
    let post = r#"{"title":"Counted","slug":"counted-on-litefs","body":"Once.","tags":[]}"#;
    let (status, body) = http(replica.http_addr, "POST", "/api/posts", Some(post)).await;
    assert_eq!(status, 201, "{body}");
    for node in &nodes {
        let (_, page) = http(node.http_addr, "GET", "/metrics", None).await;
        let series = format!("blog_writes_forwarded_total{{node=\"{}\"}}", node.name);
        let expected = if node.name == replica.name { 1.0 } else { 0.0 };
        assert_eq!(
            value(&page, &series),
            Some(expected),
            "{}: {page}",
            node.name
        );
    }
    drop(nodes);
    cluster.shutdown().await;
}
