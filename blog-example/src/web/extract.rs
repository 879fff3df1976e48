//! Extractors that fail with [`ApiError`] instead of axum's plain-text rejections.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body: syntax errors are `400`, a body over the limit `413`, a missing
/// `Content-Type: application/json` `415`, and a value of the wrong shape (a number where
/// a string belongs) `400` too. Missing fields are left to validation (`422`).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(from_rejection(rejection)),
        }
    }
}

fn from_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
        _ => serde_cause(&rejection).map_or_else(
            || ApiError::MalformedJson("could not read the body".to_owned()),
            ApiError::malformed,
        ),
    }
}

/// The serde error behind a rejection, if there is one.
fn serde_cause(rejection: &JsonRejection) -> Option<&serde_json::Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> =
        std::error::Error::source(rejection);
    while let Some(error) = cause {
        if let Some(found) = error.downcast_ref::<serde_json::Error>() {
            return Some(found);
        }
        cause = error.source();
    }
    None
}

/// A post id from the path; anything that is not one (`/posts/abc`) is a `404`.
pub(crate) struct PostId(pub(crate) i32);

impl<S: Send + Sync> FromRequestParts<S> for PostId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        raw.parse().map(PostId).map_err(|_| ApiError::NotFound)
    }
}
