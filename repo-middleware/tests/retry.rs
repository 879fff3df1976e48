//! Retry: what is retried and what is not, the same request id on every attempt, growing
//! backoff, and a budget that stops a storm. Paused time: no real sleeps.

mod support;

use std::time::Duration;

use repo_middleware::{RetryConfig, RetryLayer};
use support::{Scripted, Step, metric, request, with_metrics};
use tower::{Layer, ServiceExt};

fn retry(
    config: RetryConfig,
    inner: &Scripted,
) -> impl tower::Service<repo_core::Request, Response = repo_core::Response, Error = repo_core::RepoError>
{
    RetryLayer::new(config).layer(inner.clone())
}

#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_with_the_same_request_id() {
    let inner = Scripted::new([Step::ConnectionLost, Step::NotDispatchedTimeout]);
    let req = request();
    let id = req.id;
    let response = retry(RetryConfig::default().max_attempts(3), &inner)
        .oneshot(req)
        .await;
    assert!(response.is_ok(), "{response:?}");
    let seen = inner.seen.lock().expect("lock");
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter().all(|(_, r)| r.id == id),
        "every attempt carries the same id"
    );
    assert_eq!(seen[2].1.facts.attempts(), 3);
}

#[tokio::test(start_paused = true)]
async fn rejections_and_constraint_violations_are_not_retried() {
    let inner = Scripted::new([Step::Rejected]);
    let err = retry(RetryConfig::default(), &inner)
        .oneshot(request())
        .await
        .expect_err("rejected");
    assert!(matches!(err, repo_core::RepoError::UnknownTransaction(_)));
    assert_eq!(inner.calls(), 1);

    tokio::time::resume(); // sqlx's pool needs the real clock
    let unique = support::unique_violation().await;
    assert!(!repo_middleware::retry::is_retryable(&unique));
    assert!(!repo_middleware::retry::is_retryable(
        &repo_core::RepoError::CircuitOpen {
            retry_in: Duration::ZERO
        }
    ));
    assert!(!repo_middleware::retry::is_retryable(
        &repo_core::RepoError::Timeout {
            commit: repo_core::CommitState::Unknown
        }
    ));
    assert!(repo_middleware::retry::is_retryable(
        &support::connection_lost()
    ));
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_max_attempts_with_the_last_error() {
    let inner = Scripted::new([Step::ConnectionLost; 10]);
    let err = retry(RetryConfig::default().max_attempts(4), &inner)
        .oneshot(request())
        .await
        .expect_err("fails");
    assert_eq!(err.kind(), "connection");
    assert_eq!(inner.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn backoff_grows_between_attempts() {
    let inner = Scripted::new([Step::ConnectionLost; 4]);
    let config = RetryConfig::default()
        .max_attempts(5)
        .backoff(Duration::from_millis(100), Duration::from_secs(10))
        .jitter(0.5);
    retry(config, &inner)
        .oneshot(request())
        .await
        .expect("succeeds on the 5th attempt");
    let times = inner.times();
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps.len(), 4);
    assert!(gaps[0] >= Duration::from_millis(100), "{gaps:?}");
    for pair in gaps.windows(2) {
        assert!(pair[1] > pair[0], "backoff grows: {gaps:?}");
    }
    assert!(
        gaps[3] >= Duration::from_millis(800),
        "doubles each time: {gaps:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn no_attempt_starts_after_the_deadline() {
    let inner = Scripted::new([Step::ConnectionLost; 10]);
    let mut req = request();
    req.deadline = Some(tokio::time::Instant::now() + Duration::from_millis(250));
    let config = RetryConfig::default()
        .max_attempts(10)
        .backoff(Duration::from_millis(100), Duration::from_secs(1))
        .jitter(0.0);
    let err = retry(config, &inner)
        .oneshot(req)
        .await
        .expect_err("gives up");
    assert_eq!(err.kind(), "connection");
    // Attempts at 0 ms and 100 ms; the next would start at 300 ms, past the deadline.
    assert_eq!(inner.calls(), 2);
}

#[test]
fn the_budget_stops_a_retry_storm() {
    let ((), metrics) = with_metrics(async {
        let inner = Scripted::new([Step::ConnectionLost; 1000]);
        // No free retries per second, 10 % of first attempts.
        let layer = RetryLayer::new(
            RetryConfig::default()
                .max_attempts(3)
                .budget(Duration::from_secs(10), 0, 0.1)
                .backoff(Duration::from_millis(1), Duration::from_millis(2)),
        );
        for _ in 0..100 {
            let _ = layer.layer(inner.clone()).oneshot(request()).await;
        }
        // Without a budget 100 calls x 3 attempts = 300; with it about 100 + 10 % of 100.
        let calls = inner.calls();
        assert!((100..=120).contains(&calls), "{calls} attempts");
    });
    let exhausted = metric(
        &metrics,
        "repo_retry_budget_exhausted_total",
        &[("action", "insert")],
    )
    .unwrap_or(0.0);
    let retried = metric(
        &metrics,
        "repo_retries_total",
        &[("action", "insert"), ("error", "connection")],
    )
    .unwrap_or(0.0);
    assert!(exhausted >= 80.0, "{exhausted}");
    assert!((1.0..=20.0).contains(&retried), "{retried}");
}
