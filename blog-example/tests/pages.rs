//! The pages without JavaScript: every form posts and redirects; drafts live on their own
//! page until published; errors come back beside their field, once; timestamps are for
//! people; lists are paginated; the footer names the serving node and its role.

mod support;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use blog_example::entities::post;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use support::{Reply, get, state};

/// `POST uri` as a browser sends a form; the reply and its `Location`.
async fn form(state: &blog_example::web::AppState, uri: &str, body: &str) -> (Reply, String) {
    let request = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .expect("request");
    let response = blog_example::web::app(state.clone());
    let response = tower::ServiceExt::oneshot(response, request)
        .await
        .expect("infallible");
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let status = response.status();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    (
        Reply {
            status,
            content_type: String::new(),
            text,
        },
        location,
    )
}

#[tokio::test]
async fn a_draft_is_created_published_and_commented_with_plain_forms() {
    let (_dir, state) = state().await;
    let (reply, location) = form(
        &state,
        "/posts",
        "title=Plain+forms&slug=plain-forms&body=No+script+needed.&tags=html%2C+forms",
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert!(location.starts_with("/posts/"), "{location}");
    let id = location.trim_start_matches("/posts/").to_owned();

    let draft = get(&state, &location).await;
    assert!(
        draft.text.contains("class=\"draft\">Draft<"),
        "{}",
        draft.text
    );
    assert!(
        draft
            .text
            .contains(&format!("action=\"/posts/{id}/publish\""))
    );
    assert!(
        !get(&state, "/").await.text.contains("Plain forms"),
        "no drafts on the home page"
    );
    assert!(get(&state, "/drafts").await.text.contains("Plain forms"));

    let (reply, location) = form(&state, &format!("/posts/{id}/publish"), "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/posts/{id}"));
    let published = get(&state, &location).await;
    assert!(!published.text.contains("class=\"draft\""));
    assert!(published.text.contains("published <time"));
    assert!(get(&state, "/").await.text.contains("Plain forms"));
    assert!(!get(&state, "/drafts").await.text.contains("Plain forms"));

    let (reply, location) = form(
        &state,
        &format!("/posts/{id}/comments"),
        "author=ada&body=Works+without+JS",
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert!(
        location.starts_with(&format!("/posts/{id}#comment-")),
        "{location}"
    );
    let page = get(&state, &format!("/posts/{id}")).await;
    assert!(page.text.contains("Works without JS"));
    // Human timestamps: `30 Nov 2026, 14:05 UTC`, not the stored form.
    assert!(page.text.contains(" UTC</time>"), "{}", page.text);
    assert!(
        page.text
            .contains("served by <strong>node-a</strong> (primary)</footer>"),
        "the footer names the node: {}",
        page.text
    );
}

#[tokio::test]
async fn a_refused_form_comes_back_filled_in_with_one_message_per_field() {
    let (_dir, state) = state().await;
    let (reply, _) = form(&state, "/posts", "title=Taken&slug=taken&body=First").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);

    let (reply, location) = form(&state, "/posts", "title=Again&slug=taken&body=Second").await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(location.is_empty());
    assert_eq!(
        reply
            .text
            .matches("a post with this slug already exists")
            .count(),
        1,
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("value=\"Again\""),
        "the form keeps its values"
    );

    let (reply, _) = form(&state, "/posts", "title=&slug=Not+A+Slug&body=x").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .text
            .contains("id=\"post-title-error\" role=\"alert\">must not be blank<"),
        "{}",
        reply.text
    );
    assert!(
        reply
            .text
            .contains("id=\"post-slug-error\" role=\"alert\">must be 1 to 100 lowercase")
    );
    assert!(
        reply
            .text
            .contains("id=\"post-body-error\" role=\"alert\"></p>"),
        "no error on a good field"
    );
    assert!(
        reply.text.contains("pattern=\"[a-z0-9\\-]+\""),
        "a pattern valid with the v flag"
    );

    let (reply, _) = form(&state, "/posts/1/comments", "author=&body=").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .text
            .contains("id=\"comment-author-error\" role=\"alert\">")
    );
}

#[tokio::test]
async fn lists_are_paginated() {
    let (_dir, state) = state().await;
    for n in 0..21 {
        let (reply, _) = form(
            &state,
            "/posts",
            &format!("title=Post+{n}&slug=p-{n}&body=b"),
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER);
    }
    post::Entity::update_many()
        .col_expr(post::Column::Published, Expr::value(true))
        .col_expr(
            post::Column::PublishedAt,
            Expr::col(post::Column::CreatedAt),
        )
        .filter(post::Column::Id.gt(0))
        .exec(state.repo.connection())
        .await
        .expect("publish all");
    let first = get(&state, "/").await.text;
    assert_eq!(first.matches("\"><a href=\"/posts/").count(), 20);
    assert!(first.contains("href=\"/?page=2\""), "{first}");
    let second = get(&state, "/?page=2").await.text;
    assert_eq!(second.matches("\"><a href=\"/posts/").count(), 1);
    assert!(second.contains("href=\"/?page=1\""));
    assert!(!second.contains("?page=3"));
    assert_eq!(get(&state, "/?page=abc").await.status, StatusCode::OK);
}
