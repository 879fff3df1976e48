//! Errors look alike wherever they happen: JSON under `/api/`, HTML pages elsewhere, one
//! 404 per kind, limits named, no Rust or serde type names, and a WebSocket message over
//! the limit closes the socket with 1009.

mod support;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use blog_example::web::{BODY_LIMIT, app};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use support::{create_post, get, post_raw, send, state};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Words that would mean an internal type leaked into a message.
fn assert_no_type_names(text: &str) {
    for word in [
        "struct", "Request", "String", "i64", "i32", "Vec", "Option", "serde",
    ] {
        assert!(!text.contains(word), "`{word}` in {text}");
    }
}

#[tokio::test]
async fn every_404_is_json_under_the_api_and_a_page_elsewhere() {
    let (_dir, state) = state().await;
    for uri in [
        "/api/nothing",
        "/api/posts/abc",
        "/api/posts/9999",
        "/api/posts/abc/comments",
    ] {
        let reply = if uri.ends_with("comments") {
            post_raw(&state, uri, r#"{"author":"a","body":"b"}"#).await
        } else {
            get(&state, uri).await
        };
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(reply.content_type, "application/json", "{uri}");
        assert_eq!(reply.json(), json!({ "error": "not found" }), "{uri}");
    }
    for uri in ["/nothing", "/posts/abc", "/posts/9999", "/posts/1/nothing"] {
        let reply = get(&state, uri).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(reply.content_type.starts_with("text/html"), "{uri}");
        assert!(
            reply.text.contains("<h1>Not found</h1>"),
            "{uri}: {}",
            reply.text
        );
    }
    let delete = Request::delete("/api/posts")
        .body(Body::empty())
        .expect("request");
    let reply = send(&state, delete).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.content_type, "application/json");
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("DELETE"))
    );
}

#[tokio::test]
async fn bodies_of_the_wrong_shape_never_name_a_rust_type() {
    let (_dir, state) = state().await;
    let post = create_post(&state, "Shape", "shape", &[]).await;
    let comments = format!("/api/posts/{}/comments", post["id"]);
    for (uri, body) in [
        ("/api/posts", "[]"),
        ("/api/posts", "7"),
        ("/api/posts", r#"{"title": 5, "slug": "x", "body": "y"}"#),
        (
            "/api/posts",
            r#"{"title": "t", "slug": "x", "body": "y", "tags": "a"}"#,
        ),
        ("/api/posts", "{not json"),
        (comments.as_str(), "[]"),
        ("/api/posts/archive", r#"{"older_than_days": "ten"}"#),
    ] {
        let reply = post_raw(&state, uri, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri} {body}");
        let error = reply.json()["error"].as_str().expect("message").to_owned();
        assert!(error.starts_with("malformed JSON"), "{error}");
        assert_no_type_names(&error);
    }
}

#[tokio::test]
async fn a_413_names_the_limit() {
    let (_dir, state) = state().await;
    let reply = post_raw(&state, "/api/posts", vec![b'x'; BODY_LIMIT + 1]).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    let error = reply.json()["error"].as_str().expect("message").to_owned();
    assert!(
        error.contains(&format!("{} KiB", BODY_LIMIT / 1024)),
        "{error}"
    );
}

#[tokio::test]
async fn an_oversized_socket_message_closes_with_1009_and_bad_ones_get_plain_errors() {
    let (_dir, state) = state().await;
    let post = create_post(&state, "Big", "big", &[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app(state)).await });
    let (mut socket, _) = connect_async(format!("ws://{addr}/posts/{}/ws", post["id"]))
        .await
        .expect("connect");

    socket.send(Message::text("[]")).await.expect("send");
    let reply = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .expect("a reply")
        .expect("open")
        .expect("no error");
    let text = reply.into_text().expect("text").to_string();
    assert!(text.contains("malformed JSON"), "{text}");
    assert_no_type_names(&text);

    socket
        .send(Message::text("x".repeat(BODY_LIMIT + 1)))
        .await
        .expect("send");
    expect_1009(&mut socket, "just over the limit").await;

    // Far over the limit (refused as its header arrives, before it is read), text or
    // binary, on both kinds of socket: 1009 too, never a dropped connection.
    let post_socket = format!("ws://{addr}/posts/{}/ws", post["id"]);
    for (url, message) in [
        (&post_socket, Message::text("x".repeat(3 * BODY_LIMIT))),
        (&post_socket, Message::binary(vec![0u8; BODY_LIMIT + 1])),
        (
            &format!("ws://{addr}/ws"),
            Message::text("x".repeat(3 * BODY_LIMIT)),
        ),
        (
            &format!("ws://{addr}/ws"),
            Message::binary(vec![0u8; BODY_LIMIT + 1]),
        ),
    ] {
        let what = format!("{} bytes to {url}", message.len());
        let (mut socket, _) = connect_async(url.as_str()).await.expect("connect");
        // The server may close before it has read it all: a failed send is expected.
        let _ = socket.send(message).await;
        expect_1009(&mut socket, &what).await;
    }
}

/// Reads until the server's close frame, which must say 1009 and name the limit.
async fn expect_1009(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    what: &str,
) {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server answers");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => {
                assert_eq!(frame.code, CloseCode::Size, "{what}: {frame:?}");
                assert!(frame.reason.contains("KiB"), "{what}: {frame:?}");
                break;
            }
            Some(Ok(_)) => continue,
            other => panic!("{what}: expected a close frame with 1009, got {other:?}"),
        }
    }
}

/// The footer every page has, on the test state's node (`node-a`, the primary).
const FOOTER: &str =
    "<footer id=\"served-by\">served by <strong>node-a</strong> (primary)</footer>";

#[tokio::test]
async fn every_error_page_names_the_node_that_served_it() {
    let (_dir, state) = state().await;
    let post = create_post(&state, "Footer", "footer", &[]).await;
    let form = |uri: &str, body: Vec<u8>| {
        Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    let mut replies = vec![
        ("404", get(&state, "/nothing").await),
        ("404 id", get(&state, "/posts/abc").await),
        ("404 post", get(&state, "/posts/9999").await),
        ("404 metrics", get(&state, "/metrics").await),
        ("404 socket", get(&state, "/posts/9999/ws").await),
        (
            "405",
            send(
                &state,
                Request::delete("/drafts")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await,
        ),
        (
            "413",
            send(&state, form("/posts", vec![b'x'; BODY_LIMIT + 1])).await,
        ),
        (
            "400 form",
            send(&state, form("/posts", b"%ff%fe=%ff&title=%".to_vec())).await,
        ),
        (
            "400 socket",
            get(&state, &format!("/posts/{}/ws", post["id"])).await,
        ),
        (
            "400 resume",
            get(&state, &format!("/posts/{}/ws?after=abc", post["id"])).await,
        ),
        ("400 posts socket", get(&state, "/ws").await),
    ];
    // A 500: the database loses a table under the running app.
    sea_orm::ConnectionTrait::execute_unprepared(state.repo.connection(), "DROP TABLE comments")
        .await
        .expect("drop");
    replies.push(("500", get(&state, &format!("/posts/{}", post["id"])).await));
    for (what, reply) in &replies {
        assert!(
            reply.status.is_client_error() || reply.status.is_server_error(),
            "{what}"
        );
        assert!(
            reply.content_type.starts_with("text/html"),
            "{what}: {}",
            reply.content_type
        );
        assert!(reply.text.contains(FOOTER), "{what}: {}", reply.text);
        let main = reply.text.split("<main>").nth(1).unwrap_or_default();
        assert_no_type_names(&main.replace("Request body too large", ""));
    }
    let status = |what: &str| {
        replies
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, r)| r.status.as_u16())
    };
    assert_eq!(status("413"), Some(413));
    assert_eq!(status("400 socket"), Some(400));
    assert_eq!(status("400 resume"), Some(400));
    assert_eq!(status("404 socket"), Some(404));
    assert_eq!(status("500"), Some(500));
    let too_large = &replies.iter().find(|(w, _)| *w == "413").expect("413").1;
    assert!(too_large.text.contains("256 KiB"), "{}", too_large.text);
}
