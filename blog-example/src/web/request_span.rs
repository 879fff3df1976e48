//! One tracing span per HTTP request, `http{method, path, request_id}`, so that every log
//! line of a request (the repository's `repo.call` spans and their events included) says
//! which request it belongs to. The id is the client's `x-request-id` when it is a valid
//! [`CorrelationId`] (letters, digits, `-`, `_`, at most 64 bytes), else a fresh one; the
//! response carries it back in `x-request-id`. The request runs in the id's
//! [`CorrelationId::scope`], so a write it forwards takes the id to the primary, whose log
//! line for that write (`forwarded_write{request_id=…}`) names it too.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use repo_core::CorrelationId;
use tokio::time::Instant;
use tracing::Instrument;

/// The header that carries the id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The middleware: runs the request inside its span and logs how it ended.
pub(crate) async fn request_span(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|id| CorrelationId::new(id).ok())
        .or_else(|| CorrelationId::new(&uuid::Uuid::new_v4().simple().to_string()).ok());
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "http",
        method = %request.method(),
        path = %path,
        request_id = %id.as_ref().map_or("", CorrelationId::as_str),
    );
    let header = id
        .as_ref()
        .and_then(|id| HeaderValue::from_str(id.as_str()).ok());
    if let Some(value) = header.clone() {
        request.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let started = Instant::now();
    let work = next.run(request).instrument(span.clone());
    let mut response = match id {
        Some(id) => id.scope(work).await,
        None => work.await,
    };
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1e3;
    // Operators' endpoints are scraped every few seconds: keep them out of `info`.
    if path == "/metrics" || path == "/health" {
        tracing::debug!(parent: &span, status, duration_ms, "answered");
    } else {
        tracing::info!(parent: &span, status, duration_ms, "answered");
    }
    if let Some(value) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
