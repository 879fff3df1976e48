//! Telemetry: the span and the metrics of a call carry the documented fields, and no value.

mod support;

use std::time::Duration;

use repo_core::{Action, NodeRole, Operation, Request};
use repo_middleware::{RetryConfig, RetryLayer, TelemetryLayer};
use sea_orm::{DbBackend, Statement};
use support::{Scripted, Spans, Step, metric, with_metrics};
use tower::{Layer, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

fn secret_request() -> Request {
    Request::new(
        Action::Transaction("create_post_with_tags.v1".into()),
        "create_post_with_tags.v1",
        Operation::Execute(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO users (email) VALUES (?)",
            ["alice@example.com".into()],
        )),
    )
}

#[test]
fn spans_and_metrics_carry_the_documented_fields() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let ((), metrics) = with_metrics(async {
        let inner = Scripted::new([Step::ConnectionLost, Step::Ok]);
        let stack = TelemetryLayer::new().layer(
            RetryLayer::new(
                RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(2)),
            )
            .layer(inner),
        );
        let request = secret_request();
        request.facts.set_role(NodeRole::Replica);
        request.facts.mark_forwarded();
        stack.oneshot(request).await.expect("ok after a retry");

        let failing = TelemetryLayer::new().layer(Scripted::new([Step::Rejected]));
        let _ = failing.oneshot(support::request()).await;
    });

    let spans = spans.0.lock().expect("lock");
    assert_eq!(spans.len(), 2);
    let first = &spans[0];
    assert_eq!(first["action"], "transaction:create_post_with_tags.v1");
    assert_eq!(first["target"], "create_post_with_tags.v1");
    assert_eq!(first["role"], "replica");
    assert_eq!(first["route"], "forwarded");
    assert_eq!(first["attempts"], "2");
    assert_eq!(first["outcome"], "ok");
    assert!(first.contains_key("duration_ms") && first.contains_key("request_id"));
    assert!(
        first.values().all(|v| !v.contains("alice")),
        "no statement value in the span: {first:?}"
    );
    let second = &spans[1];
    assert_eq!(
        (
            second["action"].as_str(),
            second["outcome"].as_str(),
            second["route"].as_str()
        ),
        ("insert", "unknown_transaction", "local")
    );

    let calls = |action: &str, route: &str, role: &str, outcome: &str| {
        metric(
            &metrics,
            "repo_calls_total",
            &[
                ("action", action),
                ("route", route),
                ("role", role),
                ("outcome", outcome),
            ],
        )
    };
    assert_eq!(
        calls(
            "transaction:create_post_with_tags.v1",
            "forwarded",
            "replica",
            "ok"
        ),
        Some(1.0)
    );
    assert_eq!(
        calls("insert", "local", "unknown", "unknown_transaction"),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "repo_call_duration_seconds",
            &[
                ("action", "insert"),
                ("route", "local"),
                ("outcome", "unknown_transaction")
            ]
        ),
        Some(1.0),
        "one latency sample"
    );
    assert_eq!(
        metric(
            &metrics,
            "repo_retries_total",
            &[
                ("action", "transaction:create_post_with_tags.v1"),
                ("error", "connection")
            ]
        ),
        Some(1.0)
    );
    assert!(
        metrics
            .keys()
            .all(|(_, labels)| labels.iter().all(|(_, v)| !v.contains("alice")))
    );
}
