//! Logs: the binary writes them through `tracing-subscriber` as `RUST_LOG` asks, in text or
//! JSON (`LOG_FORMAT=json`); a node whose LiteFS does not answer says which URL it tried and
//! logs each retry.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, Command};

/// A LiteFS API URL where nothing listens: a port taken and released.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    format!("http://127.0.0.1:{port}")
}

/// `blog-example node` against `litefs_api`, with `vars` set; its standard error.
fn node(litefs_api: &str, vars: &[(&str, &str)]) -> (Child, Lines<BufReader<ChildStderr>>) {
    let dir = tempfile::tempdir().expect("dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_blog-example"));
    command
        .args(["node", "--node-name", "node-1", "--litefs-api", litefs_api])
        .arg("--database-path")
        .arg(dir.path().join("blog.db"))
        .args(["--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"])
        .env("CLUSTER_SECRET", "0123456789abcdef")
        .env_remove("RUST_LOG")
        .env_remove("LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (name, value) in vars {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn the binary");
    let stderr = child.stderr.take().expect("stderr");
    (child, BufReader::new(stderr).lines())
}

async fn next_line(lines: &mut Lines<BufReader<ChildStderr>>) -> String {
    tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a log line within 30s")
        .expect("readable")
        .expect("the node still runs")
}

#[tokio::test]
async fn info_logs_name_the_litefs_url_and_every_retry() {
    let url = dead_url();
    let (_child, mut lines) = node(&url, &[("RUST_LOG", "info")]);
    let first = next_line(&mut lines).await;
    assert!(first.contains("INFO") && first.contains(&url), "{first}");
    let mut retries = 0;
    while retries < 2 {
        let line = next_line(&mut lines).await;
        if line.contains("WARN")
            && line.contains(&format!("{url}/events"))
            && line.contains("retry")
        {
            retries += 1;
        }
    }
}

#[tokio::test]
async fn rust_log_filters_and_log_format_json_writes_json() {
    let url = dead_url();
    // At `warn` the info line announcing the start is not written: the first is a warning.
    let (_child, mut lines) = node(&url, &[("RUST_LOG", "warn"), ("LOG_FORMAT", "json")]);
    let first = next_line(&mut lines).await;
    let event: serde_json::Value = serde_json::from_str(&first).expect("a JSON line");
    assert_eq!(event["level"], "WARN", "{first}");
    assert!(
        event["fields"]["error"]
            .as_str()
            .is_some_and(|e| e.contains(&url)),
        "{first}"
    );
}
