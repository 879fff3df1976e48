//! `GET /posts/{id}`: the post, its tags, its comments (live over the post's WebSocket),
//! a publish button while it is a draft, and the comment form.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::footer::footer;
use super::forms::CommentForm;
use super::scripts::POST_SCRIPT;
use super::time::human;
use super::{error_page, escape, page};
use crate::entities::comment;
use crate::web::AppState;
use crate::web::api::post_detail;
use crate::web::extract::PostId;
use crate::web::html::tag_list;

/// `GET /posts/{id}`.
pub(crate) async fn post_page(State(state): State<AppState>, PostId(id): PostId) -> Response {
    render_post(&state, id, &CommentForm::default(), StatusCode::OK).await
}

/// The page of post `id` with `form` (and its errors).
pub(super) async fn render_post(
    state: &AppState,
    id: i32,
    form: &CommentForm,
    status: StatusCode,
) -> Response {
    let detail = match post_detail(state, id).await {
        Ok(detail) => detail,
        Err(e) => return error_page(state, e).await,
    };
    let post = &detail.post;
    let last_comment = detail.comments.iter().map(|c| c.id).max().unwrap_or(0);
    let comments: String = detail.comments.iter().map(comment_item).collect();
    let state_line = if post.published {
        format!(
            "<p><small>published {}</small></p>",
            human(post.published_at.unwrap_or(post.created_at))
        )
    } else {
        format!(
            "<p><span class=\"draft\">Draft</span> <small>saved {}</small></p>\
             <form id=\"publish\" method=\"post\" action=\"/posts/{id}/publish\">\
             <button type=\"submit\">Publish</button></form>",
            human(post.created_at)
        )
    };
    let main = format!(
        "<main id=\"post\" data-post-id=\"{id}\" data-last-comment=\"{last_comment}\">\
         <article><h1>{title}</h1>{state_line}<p>{tags}</p><div class=\"body\">{body}</div></article>\
         <h2>Comments</h2><ul id=\"comments\">{comments}</ul>{form}</main>",
        title = escape(&post.title),
        tags = tag_list(&detail.tags),
        body = escape(&post.body),
        form = form.render(id),
    );
    let footer = footer(state).await;
    (status, Html(page(&post.title, &main, &footer, POST_SCRIPT))).into_response()
}

fn comment_item(c: &comment::Model) -> String {
    format!(
        "<li id=\"comment-{id}\"><strong>{author}</strong> <small>{when}</small>\
         <div class=\"body\">{body}</div></li>",
        id = c.id,
        author = escape(&c.author),
        when = human(c.created_at),
        body = escape(&c.body),
    )
}
