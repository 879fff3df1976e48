//! Server-rendered pages: published posts, drafts, a post with its live comments, and the
//! forms that write, which work without JavaScript (POST, then a redirect) and with it
//! (the JSON API and the post's WebSocket, errors shown beside their field).

mod footer;
mod forms;
mod list;
mod post;
mod scripts;
mod time;

use axum::response::{Html, IntoResponse, Response};

pub(crate) use forms::{comment_form, create_form, publish_form};
pub(crate) use list::{drafts, index};
pub(crate) use post::post_page;

use super::error::ApiError;
use super::html::{escape, page};

/// The error as a small page with its status code.
pub(crate) fn error_page(error: ApiError) -> Response {
    let message = escape(&error.message());
    let main = format!("<main><h1>{message}</h1><p><a href=\"/\">All posts</a></p></main>");
    (error.status(), Html(page(&error.message(), &main, "", ""))).into_response()
}
