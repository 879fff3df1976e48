//! `GET /posts/{id}/ws?after={comment id}`: live comments on one post.
//!
//! A client sends `{author, body}` as a text message; the server validates it and stores
//! the comment. Every comment on the post that reaches this node's database, written
//! through this node or any other, is pushed (`{id, post_id, author, body, created_at}`)
//! to every socket watching the post on this node, the sender included, once.
//!
//! `after` resumes: the socket first sends the post's comments above that id (those the
//! client missed while disconnected, say across a failover), then the live ones, each id
//! once and in order. Bad input gets an `{error, errors?}` reply and the socket stays open;
//! a message over [`super::BODY_LIMIT`] closes it with 1009 (message too big).

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tracing::Instrument;

use super::api::add_comment;
use super::error::ApiError;
use super::extract::PostId;
use super::feed::comments_after;
use super::not_found::respond;
use super::socket_close;
use super::validate::NewCommentRequest;
use super::{AppState, BODY_LIMIT, CommentEvent};
use crate::entities::post;

/// Where to resume: the last comment id the client has (`after=N` in the query), `None`
/// to start with the live ones; an `after` that is not a whole number is refused.
fn resume_after(query: Option<&str>) -> Result<Option<i32>, ApiError> {
    let Some(raw) = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("after="))
    else {
        return Ok(None);
    };
    raw.parse().map(Some).map_err(|_| {
        ApiError::BadRequest("`after` must be the id of the last comment seen (a whole number)")
    })
}

/// What a plain request to a WebSocket address gets.
pub(crate) const NOT_A_HANDSHAKE: &str =
    "this address serves live updates over a WebSocket; open it with a WebSocket client";

/// How many missed comments one catch-up read returns; more are read in further rounds.
const CATCH_UP_BATCH: u64 = 500;

/// Upgrades to a WebSocket watching post `id`; `404` if there is no such post, `400` for
/// a request that is not a WebSocket handshake or a bad `after`: HTML pages, as on every
/// address outside `/api/`.
pub(crate) async fn upgrade(
    State(state): State<AppState>,
    PostId(id): PostId,
    RawQuery(query): RawQuery,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match start(&state, id, query.as_deref(), upgrade).await {
        Ok(response) => response,
        Err(error) => respond(&state, &uri, error).await,
    }
}

async fn start(
    state: &AppState,
    id: i32,
    query: Option<&str>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if state.repo.get::<post::Entity>(id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let after = resume_after(query)?;
    let Ok(upgrade) = upgrade else {
        return Err(ApiError::BadRequest(NOT_A_HANDSHAKE));
    };
    let state = state.clone();
    // Subscribe before the handshake completes, so that once the client is connected it
    // sees every comment that follows, its own included.
    let events = state.feed.subscribe();
    let correlation = repo_core::CorrelationId::current();
    let span = tracing::Span::current();
    // Messages up to twice the limit are read whole and answered with 1009 by their size;
    // a larger one is refused as its header arrives, also with 1009 (`socket_close`).
    Ok(upgrade
        .max_message_size(2 * BODY_LIMIT)
        .max_frame_size(2 * BODY_LIMIT)
        .on_upgrade(move |socket| {
            // The socket outlives the upgrade request: it keeps that request's span and id,
            // so the comments it stores are logged under them, on the primary too.
            let work = watch(socket, state, events, id, after).instrument(span);
            async move {
                match correlation {
                    Some(id) => id.scope(work).await,
                    None => work.await,
                }
            }
        })
        .into_response())
}

type Sink = SplitSink<WebSocket, Message>;

/// Serves one socket until the client leaves.
async fn watch(
    socket: WebSocket,
    state: AppState,
    mut events: broadcast::Receiver<CommentEvent>,
    post_id: i32,
    after: Option<i32>,
) {
    let (mut sink, mut stream) = socket.split();
    // The highest comment id sent on this socket: nothing at or below it is sent again.
    let mut sent = after.unwrap_or(0);
    if after.is_some()
        && catch_up(&state, &mut sink, post_id, &mut sent)
            .await
            .is_err()
    {
        return;
    }
    loop {
        let outgoing = tokio::select! {
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) if text.len() > BODY_LIMIT => {
                    let _ = sink.send(Message::Close(Some(socket_close::too_big()))).await;
                    break;
                }
                Some(Ok(Message::Binary(data))) if data.len() > BODY_LIMIT => {
                    let _ = sink.send(Message::Close(Some(socket_close::too_big()))).await;
                    break;
                }
                Some(Ok(Message::Text(text))) => comment(&state, post_id, text.as_str()).await,
                Some(Ok(Message::Binary(_))) => Some(error_json(&ApiError::MalformedJson(
                    "send comments as JSON text messages".to_owned(),
                ))),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                Some(Err(error)) => {
                    if let Some(frame) = socket_close::after_read_error(error) {
                        let _ = sink.send(Message::Close(Some(frame))).await;
                    }
                    break;
                }
                Some(Ok(Message::Close(_))) | None => break,
            },
            event = events.recv() => match event {
                Ok(event) if event.post_id == post_id && event.id > sent => {
                    sent = event.id;
                    encode(&event)
                }
                Ok(_) => None,
                Err(RecvError::Lagged(skipped)) => {
                    tracing::info!(skipped, post_id, "a comment socket fell behind; catching up from the database");
                    if catch_up(&state, &mut sink, post_id, &mut sent).await.is_err() {
                        break;
                    }
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

/// Sends the post's comments above `sent` from this node's database, advancing `sent`.
async fn catch_up(
    state: &AppState,
    sink: &mut Sink,
    post_id: i32,
    sent: &mut i32,
) -> Result<(), ()> {
    loop {
        let missed = match comments_after(
            state.repo.connection(),
            Some(post_id),
            *sent,
            CATCH_UP_BATCH,
        )
        .await
        {
            Ok(missed) => missed,
            Err(e) => {
                tracing::warn!(error = %e, post_id, "catching a comment socket up failed");
                return Err(());
            }
        };
        let full = missed.len() as u64 == CATCH_UP_BATCH;
        for comment in missed {
            *sent = comment.id;
            if let Some(text) = encode(&CommentEvent::from(comment)) {
                sink.send(Message::Text(text.into()))
                    .await
                    .map_err(|_| ())?;
            }
        }
        if !full {
            return Ok(());
        }
    }
}

fn encode(event: &CommentEvent) -> Option<String> {
    match serde_json::to_string(event) {
        Ok(json) => Some(json),
        Err(e) => {
            tracing::error!(error = %e, "could not encode a comment event");
            None
        }
    }
}

/// Stores the comment in `text`; the reply to send back if it was refused. A stored
/// comment reaches this socket through the feed like everyone else's.
async fn comment(state: &AppState, post_id: i32, text: &str) -> Option<String> {
    let result = match serde_json::from_str::<NewCommentRequest>(text) {
        Ok(request) => match request.validate() {
            Ok(comment) => add_comment(state, post_id, comment, None).await.map(|_| ()),
            Err(e) => Err(e),
        },
        Err(e) => Err(ApiError::malformed(&e)),
    };
    result.err().map(|e| error_json(&e))
}

fn error_json(error: &ApiError) -> String {
    error.body().to_string()
}
