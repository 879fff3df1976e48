//! One tracing span per HTTP request, `http{method, path, request_id}`, so that every log
//! line of a request (the repository's `repo.call` spans and their events included) says
//! which request it belongs to. The id is the client's `x-request-id` when it sends a
//! sensible one, else a fresh one; the response carries it back in `x-request-id`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tokio::time::Instant;
use tracing::Instrument;

/// The header that carries the id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest client-chosen id kept.
const MAX_ID_LEN: usize = 64;

/// The middleware: runs the request inside its span and logs how it ended.
pub(crate) async fn request_span(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_sensible(id))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    let path = request.uri().path().to_owned();
    let span = tracing::info_span!(
        "http",
        method = %request.method(),
        path = %path,
        request_id = %id,
    );
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1e3;
    // Operators' endpoints are scraped every few seconds: keep them out of `info`.
    if path == "/metrics" || path == "/health" {
        tracing::debug!(parent: &span, status, duration_ms, "answered");
    } else {
        tracing::info!(parent: &span, status, duration_ms, "answered");
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Letters, digits, `-` and `_`, at most [`MAX_ID_LEN`]: safe in a log line and a header.
fn is_sensible(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
