//! What a request for nothing gets: one answer per kind of client. Under `/api/` a JSON
//! error (`{"error": ...}`) like every other API error; anywhere else an HTML page like
//! every other page error, with the page footer naming the serving node.

use axum::extract::State;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::pages::error_page;

/// Whether `uri` belongs to the JSON API.
pub(crate) fn is_api(uri: &Uri) -> bool {
    uri.path() == "/api" || uri.path().starts_with("/api/")
}

/// No route matches: `404`, as JSON under `/api/`, as a page elsewhere.
pub(crate) async fn fallback(State(state): State<AppState>, uri: Uri) -> Response {
    respond(&state, &uri, ApiError::NotFound).await
}

/// The route exists but not for this method: `405`, in the same two forms.
pub(crate) async fn method_not_allowed(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
) -> Response {
    respond(&state, &uri, ApiError::MethodNotAllowed(method)).await
}

/// `error` as the client at `uri` expects it: JSON under `/api/`, a page elsewhere.
pub(crate) async fn respond(state: &AppState, uri: &Uri, error: ApiError) -> Response {
    if is_api(uri) {
        error.into_response()
    } else {
        error_page(state, error).await
    }
}
