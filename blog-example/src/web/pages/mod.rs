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

use super::AppState;
use super::error::ApiError;
use super::html::{escape, page};

/// The error as a small page with its status code and the footer every page has (which
/// node served it, in which role). The heading names the status ("Not found"); the
/// error's own message follows when it says more, as a sentence.
pub(crate) async fn error_page(state: &AppState, error: ApiError) -> Response {
    let status = error.status();
    let heading = sentence(status.canonical_reason().unwrap_or("Error"));
    let message = error.message();
    let detail = if message.eq_ignore_ascii_case(&heading) {
        String::new()
    } else {
        format!(
            "<p>{}.</p>",
            escape(sentence(&message).trim_end_matches('.'))
        )
    };
    let main = format!(
        "<main><h1>{heading}</h1>{detail}<p><a href=\"/\">All posts</a></p></main>",
        heading = escape(&heading)
    );
    let footer = footer::footer(state).await;
    (status, Html(page(&heading, &main, &footer, ""))).into_response()
}

/// `text` with its first letter capitalised and the rest lowered when it is a status
/// reason ("Not Found" → "Not found"); a message keeps its own case after the first letter.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => {
            let rest: String = chars.collect();
            let rest = if text.split(' ').all(|w| w.starts_with(char::is_uppercase)) {
                rest.to_lowercase()
            } else {
                rest
            };
            first.to_uppercase().chain(rest.chars()).collect()
        }
        None => String::new(),
    }
}
