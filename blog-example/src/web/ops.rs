//! Endpoints for operators: `/health` and `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;

/// `GET /health`: `{node, role, primary, database}`; `503` if the database does not
/// answer.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let info = state.node.current();
    let database = state.repo.connection().ping().await;
    if let Err(e) = &database {
        tracing::warn!(error = %e, "health check: database ping failed");
    }
    let status = if database.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database.is_ok() { "ok" } else { "degraded" },
        "node": info.node,
        "role": info.role.label(),
        "primary": info.primary,
        "database": if database.is_ok() { "ok" } else { "unreachable" },
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text, or `404` when the state has no exporter.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => ApiError::NotFound.into_response(),
    }
}
