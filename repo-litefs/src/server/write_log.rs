//! The primary's log of forwarded writes: one span per write, `forwarded_write{request_id,
//! write_id, origin, action}`, where `request_id` is the caller's [`CorrelationId`] (the
//! HTTP request's `x-request-id` on the replica, when it sent one) and `write_id` the
//! write's own id; and one line when it ends: `info` when it ran (committed or failed in
//! the database), `warn` with its reason when it was refused before running.

use repo_core::{CorrelationId, RepoError, Response};
use tokio::time::Instant;
use tracing::Span;

use crate::allowlist::sanitize;
use crate::proto as pb;

/// The span of the forwarded write `message`, sent on behalf of `correlation`.
pub(super) fn span(correlation: Option<&CorrelationId>, message: &pb::ForwardRequest) -> Span {
    // Logged, so bounded and with control characters escaped (no forged log lines).
    let origin = sanitize(&message.origin, 64);
    let action = pb::Action::try_from(message.action).map_or("unknown", |a| a.as_str_name());
    tracing::info_span!(
        "forwarded_write",
        request_id = %correlation.map_or("", CorrelationId::as_str),
        write_id = %write_id(&message.request_id),
        %origin,
        %action,
    )
}

/// Logs how the write of `span`, started at `started`, ended on node `node`.
pub(super) fn outcome(
    span: &Span,
    node: &str,
    started: Instant,
    result: &Result<Response, RepoError>,
) {
    let duration_ms = started.elapsed().as_secs_f64() * 1e3;
    match result {
        Ok(_) => tracing::info!(parent: span, duration_ms, "forwarded write executed"),
        Err(error) if is_refusal(error) => {
            let reason = match error {
                RepoError::Rejected { reason } => reason.kind(),
                _ => "",
            };
            tracing::warn!(
                parent: span,
                node,
                error_kind = error.kind(),
                reject_reason = reason,
                reason = %error,
                "forwarded write refused"
            );
        }
        // The kind only: a database error's message can quote data.
        Err(error) => tracing::info!(
            parent: span,
            duration_ms,
            error_kind = error.kind(),
            "forwarded write failed"
        ),
    }
}

/// Whether `error` refused the write before it ran.
fn is_refusal(error: &RepoError) -> bool {
    matches!(
        error,
        RepoError::Rejected { .. } | RepoError::NotPrimary { .. } | RepoError::Codec(_)
    )
}

/// The write's own id, from its wire form (empty when malformed: decoding refuses it).
fn write_id(bytes: &[u8]) -> String {
    <[u8; 16]>::try_from(bytes)
        .map(|id| uuid::Uuid::from_bytes(id).to_string())
        .unwrap_or_default()
}
