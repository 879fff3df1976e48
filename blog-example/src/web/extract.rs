//! Extractors that fail with [`ApiError`] instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use repo_core::IdempotencyKey;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::ApiError;

/// A JSON body: syntax errors are `400`, a body over the limit `413`, a missing
/// `Content-Type: application/json` `415`, and a value of the wrong shape (a number where
/// a string belongs) `400` too, with a message of our own (serde's names Rust types).
/// Missing fields are left to validation (`422`).
pub(crate) struct ApiJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                _ => ApiError::MalformedJson("could not read the body".to_owned()),
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::malformed(&e))
    }
}

/// `application/json`, or any `application/*+json`, with or without parameters.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(value) = content_type.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

/// A post id from the path; anything that is not one (`/posts/abc`) is the same `404` as
/// an unknown path: JSON under `/api/`, a page elsewhere.
pub(crate) struct PostId(pub(crate) i32);

impl FromRequestParts<AppState> for PostId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let id = Path::<String>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(raw)| raw.parse().ok());
        match id {
            Some(id) => Ok(PostId(id)),
            None => Err(super::not_found::respond(state, &parts.uri, ApiError::NotFound).await),
        }
    }
}

/// The optional `Idempotency-Key` header (the IETF draft's, as Stripe uses it): absent is
/// `None`; present, it must be a valid [`IdempotencyKey`] (1 to 255 visible ASCII
/// characters; a quoted string, as the draft writes it, is unquoted) or the request is a
/// `400`.
pub(crate) struct IdempotencyKeyHeader(pub(crate) Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let text = value
            .to_str()
            .map_err(|_| ApiError::InvalidIdempotencyKey("it must be visible ASCII".to_owned()))?;
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        IdempotencyKey::new(text)
            .map(|key| Self(Some(key)))
            .map_err(|e| ApiError::InvalidIdempotencyKey(e.to_string()))
    }
}
