//! `GET /posts/{id}/ws`: live comments on one post.
//!
//! A client sends `{author, body}` as a text message; the server validates it, stores the
//! comment and pushes it (`{id, post_id, author, body, created_at}`) to every socket
//! watching the post, the sender included. Bad input gets an `{error, errors?}` reply and
//! the socket stays open.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use super::api::add_comment;
use super::error::ApiError;
use super::extract::PostId;
use super::validate::NewCommentRequest;
use super::{AppState, CommentEvent};
use crate::entities::post;

/// Upgrades to a WebSocket watching post `id`; `404` if there is no such post.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    PostId(id): PostId,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    if state.repo.get::<post::Entity>(id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    // Subscribe before the handshake completes, so that once the client is connected it
    // sees every comment that follows, its own included.
    let events = state.comments.subscribe();
    Ok(upgrade
        .max_message_size(super::BODY_LIMIT)
        .on_upgrade(move |socket| watch(socket, state, events, id))
        .into_response())
}

/// Serves one socket until the client leaves.
async fn watch(
    socket: WebSocket,
    state: AppState,
    mut events: broadcast::Receiver<CommentEvent>,
    post_id: i32,
) {
    let (mut sink, mut stream) = socket.split();
    loop {
        let outgoing = tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => comment(&state, post_id, text.as_str()).await,
                Some(Ok(Message::Binary(_))) => Some(error_json(&ApiError::MalformedJson(
                    "send comments as JSON text messages".to_owned(),
                ))),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
            event = events.recv() => match event {
                Ok(event) if event.post_id == post_id => match serde_json::to_string(&event) {
                    Ok(json) => Some(json),
                    Err(e) => {
                        tracing::error!(error = %e, "could not encode a comment event");
                        None
                    }
                },
                Ok(_) => None,
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, post_id, "a comment socket fell behind");
                    None
                }
                Err(RecvError::Closed) => break,
            },
        };
        if let Some(text) = outgoing
            && sink.send(Message::Text(text.into())).await.is_err()
        {
            break;
        }
    }
}

/// Stores the comment in `text`; the reply to send back if it was refused. A stored
/// comment reaches this socket through the broadcast like everyone else's.
async fn comment(state: &AppState, post_id: i32, text: &str) -> Option<String> {
    let result = match serde_json::from_str::<NewCommentRequest>(text) {
        Ok(request) => match request.validate() {
            Ok(comment) => add_comment(state, post_id, comment).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Err(e) => Err(ApiError::MalformedJson(e.to_string())),
    };
    result.err().map(|e| error_json(&e))
}

fn error_json(error: &ApiError) -> String {
    error.body().to_string()
}
