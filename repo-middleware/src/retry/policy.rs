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

/// The call ends with `result`: if an earlier attempt may have committed while this one
/// says it did not, the caller must not believe "not committed".
fn give_up(request: &Request, result: &mut Result<Response, RepoError>) {
    let downgraded = matches!(result, Err(e) if request.facts.ambiguous() && e.commit_state() == CommitState::NotCommitted);
    if downgraded
        && let Err(last) = std::mem::replace(
            result,
            Ok(Response::new(repo_core::Outcome::Batch(Vec::new()))),
        )
    {
        *result = Err(RepoError::MaybeCommitted {
            last: Box::new(last),
        });
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
        if error.commit_state() == CommitState::Unknown {
            request.facts.mark_ambiguous();
        }
        let deduplicated = self.retry_forwarded_ambiguous
            && request.facts.forwarded()
            && matches!(
                error,
                RepoError::Unreachable {
                    commit: CommitState::Unknown,
                    ..
                }
            );
        let wait = if (super::is_retryable(error) || deduplicated)
            && request.facts.attempts() < self.max_attempts
        {
            Some(self.backoff.next_backoff())
        } else {
            None
        };
        let wait = wait.filter(|w| request.deadline.is_none_or(|d| w.deadline() < d));
        let action = request.action.label();
        let wait = match wait {
            Some(w) if !self.budget.withdraw() => {
                metrics::counter!("repo_retry_budget_exhausted_total", "action" => action.clone())
                    .increment(1);
                tracing::warn!(request_id = %request.id, "retry budget exhausted; not retrying");
                drop(w);
                None
            }
            other => other,
        };
        let Some(wait) = wait else {
            give_up(request, result);
            return None;
        };
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
