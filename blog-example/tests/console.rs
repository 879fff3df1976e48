//! The local cluster's console: a command typed on the cluster command's terminal fails the
//! running cluster over, and a node's health then names the new primary; Ctrl-C stops it.

mod support;

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn a_typed_promote_fails_the_running_cluster_over() {
    let mut cluster = Command::new(env!("CARGO_BIN_EXE_blog-example"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the cluster");
    let mut stdin = cluster.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(cluster.stdout.take().expect("stdout")).lines();
    let mut next_line = async || {
        tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
            .await
            .expect("a line within 60 s")
            .expect("readable")
            .expect("the cluster runs")
    };
    let mut node_3 = None;
    loop {
        let line = next_line().await;
        if line.trim_start().starts_with("node-3") {
            node_3 = line
                .split("http://")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_owned);
        }
        if line.contains("type a command") {
            assert!(line.contains("promote NODE"), "{line}");
            break;
        }
    }
    let node_3: std::net::SocketAddr = node_3.expect("node-3's address").parse().expect("addr");
    stdin.write_all(b"status\n").await.expect("write");
    assert_eq!(next_line().await, "primary: node-1");
    stdin.write_all(b"explode node-1\n").await.expect("write");
    assert!(next_line().await.contains("unknown command"));
    stdin.write_all(b"promote node-2\n").await.expect("write");
    assert!(next_line().await.starts_with("promoted node-2"));
    // node-3 follows: its health names the new primary.
    let mut primary = String::new();
    for _ in 0..100 {
        let (status, body) = support::socket::http(node_3, "GET", "/health", None).await;
        assert_eq!(status, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).expect("json");
        primary = health["primary"].as_str().unwrap_or_default().to_owned();
        if primary == "node-2" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(primary, "node-2");

    // Ctrl-C stops it, though the terminal is still open (a read of it is pending).
    let pid = cluster.id().expect("running").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("run kill");
    assert!(signalled.success());
    let status = tokio::time::timeout(Duration::from_secs(60), cluster.wait())
        .await
        .expect("the cluster stops on Ctrl-C with its terminal open")
        .expect("wait");
    assert!(status.success(), "{status}");
    drop(stdin);
}
