//! The HTTP API and pages, driven with `oneshot` on a real SQLite file.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use blog_example::entities::post;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use support::{create_post, get, post_json, post_raw, send, state};

#[tokio::test]
async fn creates_lists_and_shows_posts_newest_first() {
    let (_dir, state) = state().await;
    let first = create_post(&state, "First", "first", &["rust", "sqlite"]).await;
    let second = create_post(&state, "Second", "second", &[]).await;
    assert_eq!(first["slug"], "first");
    assert_eq!(first["published"], false);

    let list = get(&state, "/api/posts").await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<_> = list
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(ids, vec![second["id"].clone(), first["id"].clone()]);

    let shown = get(&state, &format!("/api/posts/{}", first["id"])).await;
    assert_eq!(shown.status, StatusCode::OK);
    let shown = shown.json();
    assert_eq!(shown["post"]["title"], "First");
    assert_eq!(shown["tags"], json!(["rust", "sqlite"]));
    assert_eq!(shown["comments"], json!([]));
}

#[tokio::test]
async fn comments_are_stored_and_shown_with_their_post() {
    let (_dir, state) = state().await;
    let post = create_post(&state, "Hello", "hello", &[]).await;
    let uri = format!("/api/posts/{}/comments", post["id"]);
    let created = post_json(&state, &uri, &json!({ "author": "ada", "body": "Nice." })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let created = created.json();
    assert_eq!(created["post_id"], post["id"]);
    assert_eq!(created["author"], "ada");

    let shown = get(&state, &format!("/api/posts/{}", post["id"]))
        .await
        .json();
    assert_eq!(shown["comments"][0]["id"], created["id"]);
    assert_eq!(shown["comments"][0]["body"], "Nice.");

    let missing = post_json(
        &state,
        "/api/posts/9999/comments",
        &json!({ "author": "a", "body": "b" }),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tags_are_listed_once_by_name() {
    let (_dir, state) = state().await;
    create_post(&state, "A", "a", &["sqlite", "rust"]).await;
    create_post(&state, "B", "b", &["rust", "rust"]).await;
    let tags = get(&state, "/api/tags").await;
    assert_eq!(tags.status, StatusCode::OK);
    let names: Vec<_> = tags
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("rust"), json!("sqlite")]);
}

#[tokio::test]
async fn publishing_works_once_and_needs_a_post() {
    let (_dir, state) = state().await;
    let post = create_post(&state, "Draft", "draft", &[]).await;
    let uri = format!("/api/posts/{}/publish", post["id"]);
    let published = post_raw(&state, &uri, Body::empty()).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.text);
    assert_eq!(published.json()["published"], true);
    assert!(published.json()["published_at"].is_string());

    assert_eq!(
        post_raw(&state, &uri, Body::empty()).await.status,
        StatusCode::CONFLICT
    );
    let missing = post_raw(&state, "/api/posts/9999/publish", Body::empty()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn archiving_hides_old_posts_from_the_list() {
    let (_dir, state) = state().await;
    let old = create_post(&state, "Old", "old", &[]).await;
    let new = create_post(&state, "New", "new", &[]).await;
    let long_ago = chrono::Utc::now().naive_utc() - chrono::Duration::days(400);
    post::Entity::update_many()
        .col_expr(post::Column::CreatedAt, Expr::value(long_ago))
        .filter(post::Column::Id.eq(old["id"].as_i64().expect("id")))
        .exec(state.repo.connection())
        .await
        .expect("age the post");

    let archived = post_json(
        &state,
        "/api/posts/archive",
        &json!({ "older_than_days": 30 }),
    )
    .await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(archived.json(), json!({ "archived": 1 }));

    let list = get(&state, "/api/posts").await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], new["id"]);

    let bad = post_json(
        &state,
        "/api/posts/archive",
        &json!({ "older_than_days": -1 }),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.json()["errors"]["older_than_days"].is_string());
}

#[tokio::test]
async fn malformed_json_is_400_and_a_missing_content_type_415() {
    let (_dir, state) = state().await;
    let reply = post_raw(&state, "/api/posts", "{\"title\": ").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|m| m.starts_with("malformed JSON"))
    );

    let wrong_type = post_json(
        &state,
        "/api/posts",
        &json!({ "title": 5, "slug": "x", "body": "y" }),
    )
    .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);

    let plain = Request::post("/api/posts")
        .body(Body::from("{}"))
        .expect("request");
    assert_eq!(
        send(&state, plain).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn missing_and_invalid_fields_are_422_with_a_message_each() {
    let (_dir, state) = state().await;
    let missing = post_json(&state, "/api/posts", &json!({ "title": "Only a title" })).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = &missing.json()["errors"];
    assert_eq!(errors["slug"], "is required");
    assert_eq!(errors["body"], "is required");
    assert!(errors.get("title").is_none());

    let tags: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let invalid = post_json(
        &state,
        "/api/posts",
        &json!({ "title": "x".repeat(201), "slug": "Not A Slug", "body": " ", "tags": tags }),
    )
    .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = invalid.json()["errors"].clone();
    for field in ["title", "slug", "body", "tags"] {
        assert!(
            errors[field].is_string(),
            "no message for {field}: {errors}"
        );
    }

    let post = create_post(&state, "P", "p", &[]).await;
    let comment = post_json(
        &state,
        &format!("/api/posts/{}/comments", post["id"]),
        &json!({ "author": "a".repeat(81), "body": "" }),
    )
    .await;
    assert_eq!(comment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(comment.json()["errors"]["author"].is_string());
    assert!(comment.json()["errors"]["body"].is_string());
}

#[tokio::test]
async fn bodies_over_the_limits_are_refused() {
    let (_dir, state) = state().await;
    let huge = json!({ "title": "t", "slug": "s", "body": "x".repeat(300 * 1024) });
    let reply = post_json(&state, "/api/posts", &huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Within the request limit, but over the 100 KB a post body may have.
    let long = json!({ "title": "t", "slug": "s", "body": "x".repeat(150 * 1024) });
    let reply = post_json(&state, "/api/posts", &long).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.json()["errors"]["body"].is_string());
}

#[tokio::test]
async fn unknown_ids_are_404() {
    let (_dir, state) = state().await;
    for uri in [
        "/api/posts/9999",
        "/api/posts/not-a-number",
        "/posts/9999",
        "/posts/abc",
    ] {
        assert_eq!(
            get(&state, uri).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn a_duplicate_slug_is_409_and_writes_nothing() {
    let (_dir, state) = state().await;
    create_post(&state, "One", "same", &[]).await;
    let reply = post_json(
        &state,
        "/api/posts",
        &json!({ "title": "Two", "slug": "same", "body": "b", "tags": ["new-tag"] }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.json()["errors"]["slug"].is_string());
    assert_eq!(
        get(&state, "/api/posts")
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(get(&state, "/api/tags").await.json(), json!([]));
}

#[tokio::test]
async fn pages_escape_every_user_string() {
    let (_dir, state) = state().await;
    let post = create_post(&state, "<script>alert(1)</script>", "xss", &[]).await;
    let comment = json!({ "author": "<b>eve</b>", "body": "\"quoted\" & <i>" });
    post_json(
        &state,
        &format!("/api/posts/{}/comments", post["id"]),
        &comment,
    )
    .await;

    let index = get(&state, "/drafts").await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(index.content_type.starts_with("text/html"));
    assert!(index.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!index.text.contains("<script>alert(1)"));

    let page = get(&state, &format!("/posts/{}", post["id"])).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.text.contains("&lt;b&gt;eve&lt;/b&gt;"));
    assert!(page.text.contains("&quot;quoted&quot; &amp; &lt;i&gt;"));
    assert!(!page.text.contains("<script>alert(1)") && !page.text.contains("<b>eve"));
}
