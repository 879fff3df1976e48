//! `GET /ws`: newly published posts, as they reach this node's database, pushed as
//! `{id, title, slug, published_at}`, each once. Messages from the client are ignored (one
//! over [`super::BODY_LIMIT`] closes the socket with 1009, as on a post's socket).

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::Uri;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::error::ApiError;
use super::not_found::respond;
use super::socket_close;
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
                    let _ = sink.send(Message::Close(Some(socket_close::too_big()))).await;
                    break;
                }
                Some(Ok(Message::Binary(data))) if data.len() > BODY_LIMIT => {
                    let _ = sink.send(Message::Close(Some(socket_close::too_big()))).await;
                    break;
                }
                Some(Err(error)) => {
                    if let Some(frame) = socket_close::after_read_error(error) {
                        let _ = sink.send(Message::Close(Some(frame))).await;
                    }
                    break;
                }
                Some(Ok(Message::Close(_))) | None => break,
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
