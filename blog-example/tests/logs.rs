//! Logs: the binary writes them through `tracing-subscriber` as `RUST_LOG` asks, in text or
//! JSON (`LOG_FORMAT=json`); a node whose LiteFS does not answer says which URL it tried and
//! logs each retry; every line of an HTTP request carries its request id, and the local
//! cluster (`blog-example` itself) passes its nodes' logs through and stops them with it.

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

/// One raw HTTP/1.1 exchange; the whole response text (status line, headers, body).
async fn exchange(addr: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

#[tokio::test]
async fn the_cluster_logs_each_request_with_its_id_on_the_replica_and_the_primary_and_stops_whole()
{
    let mut cluster = Command::new(env!("CARGO_BIN_EXE_blog-example"))
        .env("RUST_LOG", "info")
        .env_remove("LOG_FORMAT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the cluster");
    let mut stdout = BufReader::new(cluster.stdout.take().expect("stdout")).lines();
    let mut stderr = BufReader::new(cluster.stderr.take().expect("stderr")).lines();
    // `  node-2  replica  http://127.0.0.1:PORT  (pid N)`, one line per node.
    let mut replica = None;
    let mut primary = None;
    let mut pids = Vec::new();
    while pids.len() < 3 {
        let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
            .await
            .expect("the cluster starts")
            .expect("readable")
            .expect("the cluster runs");
        if let Some(pid) = line
            .split("(pid ")
            .nth(1)
            .and_then(|p| p.trim_end_matches(')').parse::<u32>().ok())
        {
            pids.push(pid);
            if line.contains(" primary ") {
                primary = line.split_whitespace().next().map(str::to_owned);
            }
            if line.contains(" replica ") && replica.is_none() {
                replica = line
                    .split("http://")
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_owned);
            }
        }
    }
    let replica = replica.expect("a replica's address");
    let primary = primary.expect("the primary's name");
    let post = r#"{"title":"Logged","slug":"logged","body":"b"}"#;
    let request = format!(
        "POST /api/posts HTTP/1.1\r\nHost: {replica}\r\nx-request-id: req-42\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{post}",
        post.len()
    );
    assert!(
        exchange(&replica, &request)
            .await
            .starts_with("HTTP/1.1 201")
    );
    // The same slug again: refused by the primary; the replica's log line for the failed
    // forwarded write sits inside the request's span.
    let refused = exchange(&replica, &request).await;
    assert!(refused.starts_with("HTTP/1.1 409"), "{refused}");
    assert!(
        refused
            .to_ascii_lowercase()
            .contains("x-request-id: req-42"),
        "{refused}"
    );
    // The id travels with the forwarded writes: the primary logs both under it, the one
    // that ran and the one the database refused.
    let (mut replica_seen, mut executed, mut failed) = (false, false, false);
    while !(replica_seen && executed && failed) {
        let line = next_line(&mut stderr).await;
        if line.contains("request_id=req-42")
            && line.contains("repo.call{")
            && line.contains("route=\"forwarded\"")
        {
            assert!(line.contains("WARN"), "{line}");
            replica_seen = true;
        }
        if line.starts_with(&format!("{primary} |"))
            && line.contains("forwarded_write{request_id=req-42 ")
        {
            executed |= line.contains("forwarded write executed");
            failed |= line.contains("forwarded write failed") && line.contains("unique");
        }
    }

    // Killed, the cluster takes its nodes with it: they see their standard input close.
    cluster.kill().await.expect("kill");
    for pid in pids.iter().skip(1).chain(pids.first()) {
        let proc = std::path::PathBuf::from(format!("/proc/{pid}"));
        tokio::time::timeout(Duration::from_secs(30), async {
            while proc.exists() && !is_zombie(&proc) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("node process {pid} outlived the cluster"));
    }
}

/// Whether the process at `/proc/<pid>` has exited and awaits its parent.
fn is_zombie(proc: &std::path::Path) -> bool {
    std::fs::read_to_string(proc.join("stat"))
        .map(|stat| {
            stat.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(true)
}
