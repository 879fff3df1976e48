//! `GET /ws`: newly published posts, as they reach this node's database, pushed as
//! `{id, title, slug, published_at}`, each once. Messages from the client are ignored (one
//! over [`super::BODY_LIMIT`] closes the socket with 1009, as on a post's socket).

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::Uri;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::not_found::respond;
use super::ws::NOT_A_HANDSHAKE;
use super::{AppState, BODY_LIMIT, PostEvent};

/// Upgrades to a socket that receives every post published from now on; a request that
/// is not a WebSocket handshake gets a `400` page.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Ok(upgrade) = upgrade else {
        return respond(&state, &uri, ApiError::BadRequest(NOT_A_HANDSHAKE)).await;
    };
    let events = state.feed.subscribe_posts();
    upgrade
        .max_message_size(2 * BODY_LIMIT)
        .max_frame_size(2 * BODY_LIMIT)
        .on_upgrade(move |socket| watch(socket, events))
}

async fn watch(socket: WebSocket, mut events: broadcast::Receiver<PostEvent>) {
    let (mut sink, mut stream) = socket.split();
    loop {
        tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) if text.len() > BODY_LIMIT => {
                    let _ = sink.send(Message::Close(Some(CloseFrame {
                        code: close_code::SIZE,
                        reason: format!("message over the {} KiB limit", BODY_LIMIT / 1024).into(),
                    }))).await;
                    break;
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            event = events.recv() => match event {
                Ok(event) => match serde_json::to_string(&event) {
                    Ok(json) => {
                        if sink.send(Message::Text(json.into())).await.is_err() {
                            break;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "could not encode a post event"),
                },
                Err(RecvError::Lagged(skipped)) => {
                    tracing::info!(skipped, "a post socket fell behind; the page shows them on reload");
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
}
