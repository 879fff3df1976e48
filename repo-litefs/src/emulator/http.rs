//! The emulated LiteFS HTTP API of one node: `/info` and `/events`, in LiteFS's JSON shapes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use tokio::sync::broadcast;

use super::state::Shared;

pub(super) async fn info(
    State((shared, node)): State<(Arc<Shared>, String)>,
) -> axum::response::Response {
    let Ok(state) = shared
        .state
        .lock()
        .map(|s| (s.primary.clone(), s.stopped.contains(&node)))
    else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let (primary, stopped) = state;
    if stopped {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    axum::Json(serde_json::json!({
        "clusterID": "emulated",
        "isPrimary": primary == node,
        "candidate": true,
        "path": shared.nodes.iter().find(|n| n.name == node).map(|n| n.dir.display().to_string()),
        "primary": {"hostname": primary},
    }))
    .into_response()
}

pub(super) async fn events(
    State((shared, node)): State<(Arc<Shared>, String)>,
) -> axum::response::Response {
    let primary = shared
        .state
        .lock()
        .map(|s| s.primary.clone())
        .unwrap_or_default();
    let init = serde_json::json!({"type": "init", "data": {"isPrimary": primary == node, "hostname": primary}});
    let stream = event_lines(init.to_string(), node, shared.events.subscribe());
    axum::body::Body::from_stream(stream).into_response()
}

/// The `/events` body: the `init` line, then every event for this node.
fn event_lines(
    init: String,
    node: String,
    receiver: broadcast::Receiver<(Option<String>, String)>,
) -> impl futures::Stream<Item = Result<String, std::io::Error>> {
    futures::stream::unfold(
        (Some(init), receiver, node),
        |(first, mut rx, node)| async move {
            if let Some(line) = first {
                return Some((Ok(format!("{line}\n")), (None, rx, node)));
            }
            loop {
                match rx.recv().await {
                    Ok((target, line)) if target.as_deref().is_none_or(|t| t == node) => {
                        return Some((Ok(format!("{line}\n")), (None, rx, node)));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    )
}
