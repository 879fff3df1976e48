//! The operator endpoints, driven with `oneshot`: `/health` (node, role, primary, database,
//! circuit state, replication lag) and `/metrics`.

mod support;

use std::future::{Ready, ready};
use std::path::PathBuf;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use blog_example::lag::{LAG_FILE, read_lag};
use blog_example::transactions;
use blog_example::web::{AppState, HealthInfo, NodeInfo};
use metrics_exporter_prometheus::PrometheusBuilder;
use repo_core::{CommitState, NodeRole, Repo, RepoError, Request, Response};
use repo_middleware::{BreakerConfig, CircuitBreakerLayer};
use serde_json::{Value, json};
use support::{database, get, post_json, state};

/// A write path whose primary never answers: every call fails as a transient error.
#[derive(Debug, Clone)]
struct UnreachablePrimary;

impl tower::Service<Request> for UnreachablePrimary {
    type Response = Response;
    type Error = RepoError;
    type Future = Ready<Result<Response, RepoError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), RepoError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request) -> Self::Future {
        ready(Err(RepoError::Unreachable {
            node: "node-b".to_owned(),
            message: "connection refused".to_owned(),
            commit: CommitState::NotCommitted,
        }))
    }
}

/// Health info as a node reports it: the breaker's live state and the lag read from
/// `mount_dir`'s `.lag`, on every request.
fn node_info(breaker: Option<CircuitBreakerLayer>, mount_dir: Option<PathBuf>) -> NodeInfo {
    NodeInfo::new(move || HealthInfo {
        node: "node-b".to_owned(),
        role: NodeRole::Replica,
        primary: Some("node-a".to_owned()),
        circuit: breaker.as_ref().map(CircuitBreakerLayer::state),
        replication_lag: read_lag(mount_dir.as_deref()),
    })
}

async fn health(state: &AppState) -> Value {
    let reply = get(state, "/health").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()
}

#[tokio::test]
async fn health_reports_the_node_and_metrics_need_an_exporter() {
    let (_dir, state) = state().await;
    let health = health(&state).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["node"], "node-a");
    assert_eq!(health["role"], "primary");
    assert_eq!(health["primary"], "node-a");
    assert_eq!(health["database"], "ok");
    assert_eq!(health["circuit"], Value::Null, "this stack has no breaker");

    assert_eq!(get(&state, "/metrics").await.status, StatusCode::NOT_FOUND);

    let recorder = PrometheusBuilder::new().build_recorder();
    let state = state.with_metrics(recorder.handle());
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("blog_test_total").increment(3)
    });
    let reply = get(&state, "/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.content_type.starts_with("text/plain"));
    assert!(reply.text.contains("blog_test_total 3"), "{}", reply.text);
}

#[tokio::test]
async fn health_shows_the_circuit_closed_then_open_once_the_primary_fails() {
    let (_dir, db) = database().await;
    let breaker = CircuitBreakerLayer::new(
        BreakerConfig::default()
            .consecutive_failures(1)
            .open_for(Duration::from_secs(600)),
    );
    let repo = transactions::register(Repo::builder(db))
        .layer(breaker.clone())
        .layer(tower::layer::layer_fn(|_| UnreachablePrimary))
        .build();
    let state = AppState::new(repo, node_info(Some(breaker), None));

    assert_eq!(health(&state).await["circuit"], "closed");

    let body = json!({ "title": "T", "slug": "t", "body": "B", "tags": [] });
    let failed = post_json(&state, "/api/posts", &body).await;
    assert_eq!(
        failed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        failed.text
    );

    let health = health(&state).await;
    assert_eq!(health["circuit"], "open", "{health}");
    assert_eq!(health["status"], "ok", "reads still work: {health}");
}

#[tokio::test]
async fn health_reads_the_replication_lag_from_the_litefs_mount() {
    let (_dir, db) = database().await;
    let mount = tempfile::tempdir().expect("mount dir");
    let repo = transactions::register(Repo::builder(db)).build();
    let state = AppState::new(repo, node_info(None, Some(mount.path().to_owned())));
    let lag_file = mount.path().join(LAG_FILE);

    std::fs::write(&lag_file, "+000000123\n").expect("write .lag");
    assert_eq!(
        health(&state).await["replication_lag"],
        json!({ "ms": 123, "status": "reported", "reason": null })
    );

    std::fs::write(&lag_file, "+2147483647\n").expect("write .lag");
    let lag = &health(&state).await["replication_lag"];
    assert_eq!(
        (&lag["ms"], &lag["status"]),
        (&Value::Null, &json!("initializing"))
    );
}

#[tokio::test]
async fn health_reports_an_unknown_lag_with_the_reason_and_never_fails_on_it() {
    let (_dir, db) = database().await;
    let mount = tempfile::tempdir().expect("mount dir");
    let repo = transactions::register(Repo::builder(db.clone())).build();
    let state = AppState::new(repo, node_info(None, Some(mount.path().to_owned())));

    let lag = health(&state).await["replication_lag"].clone();
    assert_eq!(
        (&lag["ms"], &lag["status"]),
        (&Value::Null, &json!("unreadable"))
    );

    for bad in ["123\n", "+000000123", "+12\n", "lagging\n", ""] {
        std::fs::write(mount.path().join(LAG_FILE), bad).expect("write .lag");
        let lag = health(&state).await["replication_lag"].clone();
        assert_eq!(lag["ms"], Value::Null, "{bad:?}: {lag}");
        assert_eq!(lag["status"], "invalid", "{bad:?}: {lag}");
        assert!(lag["reason"].is_string(), "{bad:?}: {lag}");
    }

    let repo = transactions::register(Repo::builder(db)).build();
    let state = AppState::new(repo, node_info(None, None));
    let lag = health(&state).await["replication_lag"].clone();
    assert_eq!(
        (&lag["ms"], &lag["status"]),
        (&Value::Null, &json!("no_mount_dir"))
    );
    assert!(
        lag["reason"]
            .as_str()
            .is_some_and(|r| r.contains("--litefs-dir")),
        "{lag}"
    );
}
