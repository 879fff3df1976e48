//! Endpoints for operators: `/health` and `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use repo_middleware::BreakerState;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::not_found::respond;
use crate::lag::ReplicationLag;

/// `GET /health`: `{status, node, role, primary, database, circuit, replication_lag}`;
/// `503` if the database does not answer.
///
/// `circuit` is `closed`, `open` or `half_open` (`null` when the stack has no breaker).
/// `replication_lag` is `{ms, status, reason}`: `ms` is the lag in milliseconds or `null`,
/// `status` one of [`ReplicationLag::label`]'s values, `reason` why `ms` is `null`. On
/// LiteFS the lag is LiteFS's `.lag`; on PostgreSQL it is read with the role (0 on the
/// primary and on a standby that replayed all it received, otherwise `now() -
/// pg_last_xact_replay_timestamp()`).
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let node = state.node.clone();
    // The source may read a file (LiteFS's `.lag`; PostgreSQL's lag is in memory): keep it
    // off the async workers.
    let info = match tokio::task::spawn_blocking(move || node.current()).await {
        Ok(info) => info,
        Err(e) => {
            tracing::error!(error = %e, "health check: the node information source failed");
            return ApiError::Internal.into_response();
        }
    };
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
        "circuit": info.circuit.map(BreakerState::label),
        "replication_lag": lag_json(info.replication_lag),
    });
    (status, Json(body)).into_response()
}

fn lag_json(lag: ReplicationLag) -> serde_json::Value {
    json!({
        "ms": lag.millis(),
        "status": lag.label(),
        "reason": lag.reason(),
    })
}

/// `GET /metrics`: Prometheus text, or the `404` page when the state has no exporter.
pub(crate) async fn metrics(State(state): State<AppState>, uri: Uri) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => respond(&state, &uri, ApiError::NotFound).await,
    }
}
