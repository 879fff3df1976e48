//! Circuit breaker: opens, fails fast without touching the inner service, half-opens,
//! closes again, and holds up with concurrent callers. Paused time.

mod support;

use std::time::Duration;

use repo_core::{RepoError, Request, Response};
use repo_middleware::{BreakerConfig, BreakerState, CircuitBreakerLayer};
use support::{Scripted, Step, metric, request, with_metrics};
use tower::{Layer, Service, ServiceExt};

fn config() -> BreakerConfig {
    BreakerConfig::default()
        .name("primary")
        .consecutive_failures(3)
        .failure_rate(2.0, 10, 10)
        .open_for(Duration::from_secs(5))
        .half_open(1, 2)
}

#[test]
fn opens_fails_fast_half_opens_and_closes() {
    let ((), metrics) = with_metrics(async {
        let breaker = CircuitBreakerLayer::new(config());
        let inner = Scripted::new([Step::ConnectionLost; 3]);
        for _ in 0..3 {
            let err = breaker
                .layer(inner.clone())
                .oneshot(request())
                .await
                .expect_err("fails");
            assert_eq!(err.kind(), "connection");
        }
        assert_eq!(breaker.state(), BreakerState::Open);

        let err = breaker
            .layer(inner.clone())
            .oneshot(request())
            .await
            .expect_err("refused");
        assert!(
            matches!(err, RepoError::CircuitOpen { retry_in } if retry_in == Duration::from_secs(5)),
            "{err:?}"
        );
        assert_eq!(
            inner.calls(),
            3,
            "the inner service was not called while open"
        );

        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        breaker
            .layer(inner.clone())
            .oneshot(request())
            .await
            .expect("probe 1");
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        breaker
            .layer(inner.clone())
            .oneshot(request())
            .await
            .expect("probe 2");
        assert_eq!(breaker.state(), BreakerState::Closed);
        assert_eq!(inner.calls(), 5);
    });
    let transition = |from, to| {
        metric(
            &metrics,
            "repo_circuit_transitions_total",
            &[("breaker", "primary"), ("from", from), ("to", to)],
        )
    };
    assert_eq!(transition("closed", "open"), Some(1.0));
    assert_eq!(transition("open", "half_open"), Some(1.0));
    assert_eq!(transition("half_open", "closed"), Some(1.0));
    assert_eq!(
        metric(&metrics, "repo_circuit_state", &[("breaker", "primary")]),
        Some(0.0)
    );
    assert_eq!(
        metric(
            &metrics,
            "repo_circuit_rejections_total",
            &[("action", "insert"), ("breaker", "primary")]
        ),
        Some(1.0)
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_it_again() {
    let breaker = CircuitBreakerLayer::new(config());
    let inner = Scripted::new([Step::ConnectionLost; 4]);
    for _ in 0..3 {
        let _ = breaker.layer(inner.clone()).oneshot(request()).await;
    }
    tokio::time::advance(Duration::from_secs(5)).await;
    let err = breaker
        .layer(inner.clone())
        .oneshot(request())
        .await
        .expect_err("probe fails");
    assert_eq!(err.kind(), "connection");
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn database_answers_do_not_open_it() {
    let breaker = CircuitBreakerLayer::new(config());
    let inner = Scripted::new([Step::Rejected; 10]);
    for _ in 0..10 {
        let _ = breaker.layer(inner.clone()).oneshot(request()).await;
    }
    assert_eq!(
        breaker.state(),
        BreakerState::Closed,
        "refusals are answers, not outages"
    );
}

/// With tower-test's mock inner service, concurrent callers while half-open: one probe goes
/// through, the others are refused without reaching the inner service.
#[tokio::test(start_paused = true)]
async fn concurrent_callers_get_one_probe_while_half_open() {
    let breaker = CircuitBreakerLayer::new(config());
    let (mock, mut handle) = tower_test::mock::pair::<Request, Response>();
    let inner = mock.map_err(|e| match e.downcast::<RepoError>() {
        Ok(e) => *e,
        Err(e) => RepoError::InvalidRequest(e.to_string()),
    });
    let inner = tower::util::BoxCloneSyncService::new(inner);

    // Open it with three failures.
    for _ in 0..3 {
        let call = tokio::spawn(breaker.layer(inner.clone()).oneshot(request()));
        let (_, send) = handle.next_request().await.expect("request");
        send.send_error(support::connection_lost());
        assert!(call.await.expect("join").is_err());
    }
    assert_eq!(breaker.state(), BreakerState::Open);

    // Concurrent callers while open: all refused, none reaches the mock.
    let callers: Vec<_> = (0..8)
        .map(|_| tokio::spawn(breaker.layer(inner.clone()).oneshot(request())))
        .collect();
    for c in callers {
        assert!(matches!(
            c.await.expect("join"),
            Err(RepoError::CircuitOpen { .. })
        ));
    }

    tokio::time::advance(Duration::from_secs(5)).await;
    let mut services: Vec<_> = (0..8).map(|_| breaker.layer(inner.clone())).collect();
    let mut pending = Vec::new();
    for svc in &mut services {
        let ready = svc.ready().await.expect("ready");
        pending.push(tokio::spawn(ready.call(request())));
    }
    let (_, send) = handle.next_request().await.expect("the probe");
    send.send_response(support::ok());
    let mut ok = 0;
    let mut refused = 0;
    for p in pending {
        match p.await.expect("join") {
            Ok(_) => ok += 1,
            Err(RepoError::CircuitOpen { .. }) => refused += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, refused), (1, 7));
    assert_eq!(
        breaker.state(),
        BreakerState::HalfOpen,
        "one success of the two needed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_call_counts_as_a_failure() {
    let breaker = CircuitBreakerLayer::new(config().consecutive_failures(1));
    let inner = Scripted::new([Step::Hang]);
    let call = breaker.layer(inner).oneshot(request());
    assert!(
        tokio::time::timeout(Duration::from_secs(1), call)
            .await
            .is_err()
    );
    assert_eq!(breaker.state(), BreakerState::Open);
}

#[tokio::test(start_paused = true)]
async fn the_stacks_breaker_handle_reads_the_breaker_inside_the_stack() {
    let (layers, breaker) = repo_middleware::StackConfig::default()
        .retry(repo_middleware::RetryConfig::default().max_attempts(1))
        .breaker(config())
        .layers_and_breaker();
    let inner = Scripted::new([Step::ConnectionLost; 3]);
    let stack = repo_core::wrap_all(repo_core::RepoService::new(inner.clone()), &layers);
    assert_eq!(breaker.state(), BreakerState::Closed);
    for _ in 0..3 {
        let _ = stack.clone().oneshot(request()).await;
    }
    assert_eq!(
        breaker.state(),
        BreakerState::Open,
        "the handle sees it open"
    );
    let err = stack.oneshot(request()).await.expect_err("fails fast");
    assert_eq!(err.kind(), "circuit_open");
    assert_eq!(inner.calls(), 3, "the open breaker did not call inside");
}
