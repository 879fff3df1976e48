//! `GET /` (published posts and the new-post form) and `GET /drafts` (unpublished posts),
//! newest first, [`PAGE_SIZE`] to a page (`?page=2`).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::footer::footer;
use super::forms::PostForm;
use super::scripts::INDEX_SCRIPT;
use super::time::human;
use super::{error_page, escape, page};
use crate::entities::post;
use crate::web::AppState;
use crate::web::error::ApiError;

/// Posts per page.
pub(crate) const PAGE_SIZE: u64 = 20;

/// `GET /`: published posts and a form for a new draft.
pub(crate) async fn index(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    render(
        &state,
        Listing::Published,
        page_number(query.as_deref()),
        &PostForm::default(),
        StatusCode::OK,
    )
    .await
}

/// `GET /drafts`: posts not yet published, each with a link to publish it.
pub(crate) async fn drafts(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    render(
        &state,
        Listing::Drafts,
        page_number(query.as_deref()),
        &PostForm::default(),
        StatusCode::OK,
    )
    .await
}

/// Which posts a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listing {
    /// Published, not archived: the home page.
    Published,
    /// Not published, not archived: the drafts page.
    Drafts,
}

/// The page number in `page=N` (from 1); anything else is the first page.
fn page_number(query: Option<&str>) -> u64 {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix("page=")?.parse::<u64>().ok())
        .filter(|n| (1..=1_000_000).contains(n))
        .unwrap_or(1)
}

/// The list page `number` of `listing`, with `form` (and its errors) on the home page.
pub(super) async fn render(
    state: &AppState,
    listing: Listing,
    number: u64,
    form: &PostForm,
    status: StatusCode,
) -> Response {
    let posts = match posts(state, listing, number).await {
        Ok(posts) => posts,
        Err(e) => return error_page(state, e).await,
    };
    let more = posts.len() as u64 > PAGE_SIZE;
    let items: String = posts
        .iter()
        .take(PAGE_SIZE as usize)
        .map(|p| {
            format!(
                "<li id=\"post-{id}\"><a href=\"/posts/{id}\">{title}</a> <small>{when}</small></li>",
                id = p.id,
                title = escape(&p.title),
                when = human(p.published_at.unwrap_or(p.created_at)),
            )
        })
        .collect();
    let (title, path, empty) = match listing {
        Listing::Published => ("Posts", "/", "No posts published yet."),
        Listing::Drafts => ("Drafts", "/drafts", "No drafts."),
    };
    let list = if items.is_empty() {
        format!("<p id=\"no-posts\">{empty}</p><ul id=\"posts\"></ul>")
    } else {
        format!("<ul id=\"posts\">{items}</ul>")
    };
    let newer = if number > 1 {
        format!(
            "<a rel=\"prev\" href=\"{path}?page={}\">← Newer</a>",
            number - 1
        )
    } else {
        "<span></span>".to_owned()
    };
    let older = if more {
        format!(
            "<a rel=\"next\" href=\"{path}?page={}\">Older →</a>",
            number + 1
        )
    } else {
        String::new()
    };
    let form_html = match listing {
        Listing::Published => form.render(),
        Listing::Drafts => String::new(),
    };
    let main = format!(
        "<main id=\"listing\" data-page=\"{number}\"><h1>{title}</h1>{list}<nav class=\"pages\">{newer}{older}</nav>{form_html}</main>"
    );
    let script = if listing == Listing::Published {
        INDEX_SCRIPT
    } else {
        ""
    };
    let footer = footer(state).await;
    (status, Html(page(title, &main, &footer, script))).into_response()
}

/// One page of `listing`, plus one more post if there is a next page.
async fn posts(
    state: &AppState,
    listing: Listing,
    number: u64,
) -> Result<Vec<post::Model>, ApiError> {
    let published = listing == Listing::Published;
    let order = if published {
        post::Column::PublishedAt
    } else {
        post::Column::CreatedAt
    };
    Ok(state
        .repo
        .all(
            post::Entity::find()
                .filter(post::Column::Archived.eq(false))
                .filter(post::Column::Published.eq(published))
                .order_by_desc(order)
                .order_by_desc(post::Column::Id)
                .offset((number - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE + 1),
        )
        .await?)
}
