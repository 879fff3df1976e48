//! The local cluster's node processes tell the emulator (in this process) which pages each
//! commit writes (`repo_litefs::emulator::commit_reporter`): after the first read of the
//! primary, the emulator reads only those pages, never the whole file, and every replica
//! still equals the primary page for page.

mod support;

use std::time::Duration;

use blog_example::process_cluster;
use support::socket::http;

/// `path`'s bytes, the header's change counters masked (each replica's counts its own
/// copies, by design).
fn pages_of(path: &std::path::Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("read");
    for at in [24..28, 92..96] {
        bytes[at].fill(0);
    }
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_processes_report_their_commits_and_replicas_stay_equal() {
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
    let [primary, replica] = [0, 1].map(|i| cluster.nodes[i].http_addr);
    let post = |i: usize| {
        format!(
            r#"{{"title":"Post {i}","slug":"post-{i}","body":"{}","tags":["t{}"]}}"#,
            "words ".repeat(200),
            i % 5
        )
    };
    // The first writes, and the emulator's first read of the primary (whole, by design).
    let (status, body) = http(primary, "POST", "/api/posts", Some(&post(0))).await;
    assert_eq!(status, 201, "{body}");
    assert!(cluster.emulator.wait_synced(Duration::from_secs(20)).await);
    let (reads, whole) = (
        cluster.emulator.primary_reads(),
        cluster.emulator.whole_reads(),
    );

    for i in 1..=60 {
        let node = if i % 3 == 0 { primary } else { replica };
        let (status, body) = http(node, "POST", "/api/posts", Some(&post(i))).await;
        assert_eq!(status, 201, "post {i}: {body}");
    }
    assert!(cluster.emulator.wait_synced(Duration::from_secs(20)).await);
    let reads = cluster.emulator.primary_reads() - reads;
    let whole = cluster.emulator.whole_reads() - whole;
    assert!(reads >= 10, "the writes were read apart: {reads} reads");
    assert_eq!(
        whole, 0,
        "{whole} of {reads} reads of the primary read the whole file: the node process did \
         not report its commits"
    );

    let files: Vec<_> = cluster
        .nodes
        .iter()
        .map(|n| n.db_path.clone().expect("a SQLite node"))
        .collect();
    // The nodes may still commit on their own (the ledger's pruner): compare once the
    // emulator has caught up, a few times if need be.
    let mut equal = false;
    for _ in 0..20 {
        assert!(cluster.emulator.wait_synced(Duration::from_secs(20)).await);
        let on_primary = pages_of(&files[0]);
        equal = files[1..].iter().all(|file| pages_of(file) == on_primary);
        if equal {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(equal, "a replica's file differs from the primary's");
}
