//! Live comments over `/posts/{id}/ws`, against the real server on a local port.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use blog_example::entities::comment;
use blog_example::transactions::{CreatePostWithTags, NewPost};
use blog_example::web::{AppState, app};
use futures::{SinkExt, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    addr
}

async fn connect(addr: SocketAddr, post_id: i32) -> Client {
    let (client, _) = connect_async(format!("ws://{addr}/posts/{post_id}/ws"))
        .await
        .expect("connect");
    client
}

/// The next text message as JSON; fails the test if none comes within five seconds.
async fn next_json(client: &mut Client) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), client.next())
            .await
            .expect("a message within 5s")
            .expect("socket open")
            .expect("no socket error");
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).expect("JSON message");
        }
    }
}

async fn send(client: &mut Client, text: &str) {
    client.send(Message::text(text)).await.expect("send");
}

async fn comments_on(state: &AppState, post_id: i32) -> u64 {
    state
        .repo
        .count(comment::Entity::find().filter(comment::Column::PostId.eq(post_id)))
        .await
        .expect("count")
}

#[tokio::test]
async fn a_comment_reaches_every_watcher_once_and_bad_input_gets_an_error() {
    let (_dir, state) = support::state().await;
    let post = state
        .repo
        .transaction::<CreatePostWithTags>(NewPost {
            title: "Live".into(),
            slug: "live".into(),
            body: "Watch the comments.".into(),
            tags: vec![],
        })
        .await
        .expect("post");
    let addr = serve(state.clone()).await;
    let mut alice = connect(addr, post.id).await;
    let mut bob = connect(addr, post.id).await;

    send(
        &mut alice,
        &json!({ "author": "alice", "body": "Hi <all>" }).to_string(),
    )
    .await;
    let to_alice = next_json(&mut alice).await;
    let to_bob = next_json(&mut bob).await;
    assert_eq!(to_alice, to_bob);
    assert_eq!(to_bob["post_id"], post.id);
    assert_eq!(to_bob["author"], "alice");
    assert_eq!(to_bob["body"], "Hi <all>");
    assert!(to_bob["id"].is_i64() && to_bob["created_at"].is_string());
    assert_eq!(comments_on(&state, post.id).await, 1);

    send(&mut alice, "this is not json").await;
    let error = next_json(&mut alice).await;
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|m| m.starts_with("malformed JSON"))
    );

    send(
        &mut alice,
        &json!({ "author": "", "body": "x" }).to_string(),
    )
    .await;
    let error = next_json(&mut alice).await;
    assert!(error["errors"]["author"].is_string(), "{error}");
    assert_eq!(comments_on(&state, post.id).await, 1);

    // Still usable after bad input, and Bob got nothing in between: his next message is
    // the second comment, not an error or a repeat of the first.
    send(
        &mut alice,
        &json!({ "author": "alice", "body": "Still here" }).to_string(),
    )
    .await;
    assert_eq!(next_json(&mut alice).await["body"], "Still here");
    let second = next_json(&mut bob).await;
    assert_eq!(second["body"], "Still here");
    assert_ne!(second["id"], to_bob["id"]);
    assert_eq!(comments_on(&state, post.id).await, 2);
}

#[tokio::test]
async fn comments_posted_over_http_are_pushed_and_unknown_posts_refuse_the_socket() {
    let (_dir, state) = support::state().await;
    let post = support::create_post(&state, "Mixed", "mixed", &[]).await;
    let post_id = i32::try_from(post["id"].as_i64().expect("id")).expect("i32 id");
    let addr = serve(state.clone()).await;
    let mut watcher = connect(addr, post_id).await;

    let uri = format!("/api/posts/{post_id}/comments");
    support::post_json(
        &state,
        &uri,
        &json!({ "author": "http", "body": "via the API" }),
    )
    .await;
    assert_eq!(next_json(&mut watcher).await["body"], "via the API");

    let refused = connect_async(format!("ws://{addr}/posts/9999/ws")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404);
        }
        other => panic!("expected a 404, got {other:?}"),
    }
}
