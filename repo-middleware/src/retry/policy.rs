//! `RetryPolicy`: tower's `Policy` for repository requests.

use std::sync::Arc;

use repo_core::{CommitState, RepoError, Request, Response};
use tokio::time::Instant;
use tower::retry::Policy;
use tower::retry::backoff::{Backoff, ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::retry::budget::{Budget, TpsBudget};
use tower::util::rng::HasherRng;

use super::config::RetryConfig;

/// Decides whether a failed attempt is tried again, and when.
///
/// tower clones the policy for each call, so the backoff state is per call while the
/// budget (behind an `Arc`) is shared by every call through the same layer.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    max_attempts: u32,
    /// This call's backoff sequence.
    backoff: ExponentialBackoff<HasherRng>,
    /// Shared by all calls: deposits on first attempts, withdrawals on retries.
    budget: Arc<TpsBudget>,
    /// Retry forwarded writes whose outcome is unknown (the primary deduplicates them).
    retry_forwarded_ambiguous: bool,
}

impl RetryPolicy {
    /// A policy with `config`.
    pub fn new(config: RetryConfig) -> Self {
        let mut maker = ExponentialBackoffMaker::new(
            config.min_backoff,
            config.max_backoff,
            config.jitter,
            HasherRng::default(),
        )
        // The config's setters keep min <= max, max > 0 and 0 <= jitter <= 100.
        .unwrap_or_default();
        Self {
            max_attempts: config.max_attempts,
            backoff: maker.make_backoff(),
            budget: Arc::new(TpsBudget::new(
                config.budget_ttl,
                config.budget_min_per_sec,
                config.budget_ratio,
            )),
            retry_forwarded_ambiguous: config.retry_forwarded_ambiguous,
        }
    }
}

impl Policy<Request, Response, RepoError> for RetryPolicy {
    type Future = tokio::time::Sleep;

    fn retry(
        &mut self,
        request: &mut Request,
        result: &mut Result<Response, RepoError>,
    ) -> Option<Self::Future> {
        let error = result.as_ref().err()?;
        let deduplicated = self.retry_forwarded_ambiguous
            && request.facts.forwarded()
            && matches!(
                error,
                RepoError::Unreachable {
                    commit: CommitState::Unknown,
                    ..
                }
            );
        if !(super::is_retryable(error) || deduplicated)
            || request.facts.attempts() >= self.max_attempts
        {
            return None;
        }
        let wait = self.backoff.next_backoff();
        if request.deadline.is_some_and(|d| wait.deadline() >= d) {
            return None;
        }
        let action = request.action.label();
        if !self.budget.withdraw() {
            metrics::counter!("repo_retry_budget_exhausted_total", "action" => action).increment(1);
            tracing::warn!(request_id = %request.id, "retry budget exhausted; not retrying");
            return None;
        }
        metrics::counter!("repo_retries_total", "action" => action, "error" => error.kind())
            .increment(1);
        tracing::debug!(
            request_id = %request.id,
            attempt = request.facts.attempts(),
            error_kind = error.kind(),
            wait_ms = (wait.deadline() - Instant::now()).as_millis() as u64,
            "retrying"
        );
        Some(wait)
    }

    fn clone_request(&mut self, request: &Request) -> Option<Request> {
        if request.facts.start_attempt() == 1 {
            self.budget.deposit();
        }
        Some(request.clone())
    }
}
