//! The forms, and what they POST to when there is no JavaScript: `POST /posts` (a new
//! draft), `POST /posts/{id}/publish` and `POST /posts/{id}/comments`. Each answers with a
//! redirect (303) to the page to see next, or with the form again, filled in, each error
//! beside its field (422, or 409 for a taken slug).

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::list::{Listing, render};
use super::post::render_post;
use super::{error_page, escape};
use crate::web::AppState;
use crate::web::api::{add_comment, create_draft, publish};
use crate::web::error::ApiError;
use crate::web::extract::PostId;
use crate::web::validate::{NewCommentRequest, NewPostRequest};

/// What the new-post form holds: the values to show again and an error per field.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PostForm {
    title: Option<String>,
    slug: Option<String>,
    body: Option<String>,
    tags: Option<String>,
    /// Filled in after a refusal, never from the request.
    #[serde(skip)]
    errors: BTreeMap<&'static str, String>,
    /// A message not about one field.
    #[serde(skip)]
    general: Option<String>,
}

/// What the comment form holds.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CommentForm {
    author: Option<String>,
    body: Option<String>,
    #[serde(skip)]
    errors: BTreeMap<&'static str, String>,
    #[serde(skip)]
    general: Option<String>,
}

/// A field's error paragraph; empty (and hidden) when there is none, so the script can fill
/// it in and clear it.
fn field_error(errors: &BTreeMap<&'static str, String>, form: &str, field: &str) -> String {
    format!(
        "<p class=\"field-error\" id=\"{form}-{field}-error\" role=\"alert\">{}</p>",
        errors.get(field).map(|m| escape(m)).unwrap_or_default()
    )
}

fn value(v: &Option<String>) -> String {
    escape(v.as_deref().unwrap_or(""))
}

impl PostForm {
    /// The form, with its values and errors.
    pub(super) fn render(&self) -> String {
        let e = |field| field_error(&self.errors, "post", field);
        format!(
            "<h2>New draft</h2><form id=\"new-post\" method=\"post\" action=\"/posts\">\
             <label>Title <input name=\"title\" required maxlength=\"200\" value=\"{title}\"></label>{te}\
             <label>Slug <input name=\"slug\" required maxlength=\"100\" pattern=\"[a-z0-9\\-]+\" \
             title=\"lowercase letters, digits and dashes\" value=\"{slug}\"></label>{se}\
             <label>Body <textarea name=\"body\" rows=\"8\" required>{body}</textarea></label>{be}\
             <label>Tags (comma separated) <input name=\"tags\" value=\"{tags}\"></label>{ge}\
             <button type=\"submit\">Save draft</button>\
             <p id=\"status\" class=\"error\" role=\"status\">{general}</p></form>",
            title = value(&self.title),
            slug = value(&self.slug),
            body = value(&self.body),
            tags = value(&self.tags),
            te = e("title"),
            se = e("slug"),
            be = e("body"),
            ge = e("tags"),
            general = self.general.as_deref().map(escape).unwrap_or_default(),
        )
    }
}

impl CommentForm {
    /// The form for post `id`, with its values and errors.
    pub(super) fn render(&self, id: i32) -> String {
        let e = |field| field_error(&self.errors, "comment", field);
        format!(
            "<form id=\"new-comment\" method=\"post\" action=\"/posts/{id}/comments\">\
             <label>Name <input name=\"author\" required maxlength=\"80\" value=\"{author}\"></label>{ae}\
             <label>Comment <textarea name=\"body\" rows=\"4\" required maxlength=\"10000\">{body}</textarea></label>{be}\
             <button type=\"submit\">Comment</button>\
             <p id=\"status\" role=\"status\">{general}</p></form>",
            author = value(&self.author),
            body = value(&self.body),
            ae = e("author"),
            be = e("body"),
            general = self.general.as_deref().map(escape).unwrap_or_default(),
        )
    }
}

/// The fields of a form post, or why it was not one.
fn fields<T>(form: Result<Form<T>, FormRejection>) -> Result<T, ApiError> {
    form.map(|Form(fields)| fields).map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::MalformedForm
        }
    })
}

/// `POST /posts`: stores a draft and opens it, or shows the form again with its errors.
pub(crate) async fn create_form(
    State(state): State<AppState>,
    form: Result<Form<PostForm>, FormRejection>,
) -> Response {
    let mut form = match fields(form) {
        Ok(form) => form,
        Err(e) => return error_page(&state, e).await,
    };
    let request = NewPostRequest::from_form(
        form.title.clone(),
        form.slug.clone(),
        form.body.clone(),
        form.tags.clone(),
    );
    let error = match request.validate() {
        Ok(args) => match create_draft(&state, args, None).await {
            Ok(post) => return Redirect::to(&format!("/posts/{}", post.id)).into_response(),
            Err(e) => e,
        },
        Err(e) => e,
    };
    form.errors = error.field_errors();
    if form.errors.is_empty() {
        form.general = Some(error.message());
    }
    render(&state, Listing::Published, 1, &form, error.status()).await
}

/// `POST /posts/{id}/publish`: publishes the draft and opens it (also if it already was).
pub(crate) async fn publish_form(State(state): State<AppState>, PostId(id): PostId) -> Response {
    match publish(&state, id, None).await {
        Ok(_) | Err(ApiError::Conflict { .. }) => {
            Redirect::to(&format!("/posts/{id}")).into_response()
        }
        Err(e) => error_page(&state, e).await,
    }
}

/// `POST /posts/{id}/comments`: stores the comment and goes back to it, or shows the post
/// again with the form's errors.
pub(crate) async fn comment_form(
    State(state): State<AppState>,
    PostId(id): PostId,
    form: Result<Form<CommentForm>, FormRejection>,
) -> Response {
    let mut form = match fields(form) {
        Ok(form) => form,
        Err(e) => return error_page(&state, e).await,
    };
    let request = NewCommentRequest::from_form(form.author.clone(), form.body.clone());
    let error = match request.validate() {
        Ok(comment) => match add_comment(&state, id, comment, None).await {
            Ok(event) => {
                return Redirect::to(&format!("/posts/{id}#comment-{}", event.id)).into_response();
            }
            Err(e) => e,
        },
        Err(e) => e,
    };
    if matches!(error, ApiError::NotFound) {
        return error_page(&state, error).await;
    }
    form.errors = error.field_errors();
    if form.errors.is_empty() {
        form.general = Some(error.message());
    }
    render_post(&state, id, &form, error.status()).await
}
