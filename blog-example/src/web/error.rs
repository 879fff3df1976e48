//! `ApiError`: every way a request can fail, and the status and JSON body each one gets.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use repo_core::RepoError;
use sea_orm::SqlErr;
use serde_json::json;

/// The error of every handler. Its response says what the client can act on and nothing
/// more: internal causes go to the log, never into the body.
#[derive(Debug)]
pub enum ApiError {
    /// The input was well-formed JSON but broke a rule; `422` with a message per field.
    Validation(BTreeMap<&'static str, String>),
    /// The body was not JSON (or not a JSON object of the expected shape); `400`.
    MalformedJson(String),
    /// A page's form post that is not the page's form (wrong encoding or fields); `400`.
    MalformedForm,
    /// The body was not sent as `application/json`; `415`.
    UnsupportedMediaType,
    /// A request this address does not serve as sent (a plain GET to a WebSocket
    /// address, a query parameter that is not what it must be); `400` with the message.
    BadRequest(&'static str),
    /// The body exceeded [`super::BODY_LIMIT`]; `413`.
    PayloadTooLarge,
    /// No such post, or no such page; `404`.
    NotFound,
    /// The path exists, but not for this method; `405`.
    MethodNotAllowed(axum::http::Method),
    /// The write conflicts with the current state (a taken slug, an already published
    /// post); `409` naming the field when there is one.
    Conflict {
        /// The field at fault, if any.
        field: Option<&'static str>,
        /// What conflicted, for the client.
        message: &'static str,
    },
    /// The request's `Idempotency-Key` was already used for a request with another body;
    /// `422`, nothing written, nothing of the first answer shown.
    IdempotencyConflict,
    /// The `Idempotency-Key` header is not a valid key; `400`.
    InvalidIdempotencyKey(String),
    /// The database cannot take writes right now (no primary, open circuit, primary
    /// unreachable); `503`, safe to retry later.
    Unavailable,
    /// Anything else; `500`. The cause has been logged.
    Internal,
}

impl ApiError {
    /// One validation message for `field`.
    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::Validation(BTreeMap::from([(field, message.into())]))
    }

    /// A body that serde could not read, described without serde's words: its messages
    /// name Rust types (`expected struct NewPostRequest`), which mean nothing to a client.
    pub(crate) fn malformed(error: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let at = format!("line {}, column {}", error.line(), error.column());
        ApiError::MalformedJson(match error.classify() {
            Category::Syntax | Category::Eof | Category::Io => format!("not valid JSON ({at})"),
            Category::Data => {
                format!(
                    "expected a JSON object of the documented shape; a value has the wrong type ({at})"
                )
            }
        })
    }

    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::IdempotencyConflict => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::InvalidIdempotencyKey(_) => StatusCode::BAD_REQUEST,
            ApiError::MalformedJson(_) | ApiError::MalformedForm | ApiError::BadRequest(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to the client.
    pub fn message(&self) -> String {
        match self {
            ApiError::Validation(_) => "invalid input".to_owned(),
            ApiError::MalformedJson(detail) => format!("malformed JSON: {detail}"),
            ApiError::MalformedForm => "expected the page's form, form-encoded".to_owned(),
            ApiError::UnsupportedMediaType => "expected an application/json body".to_owned(),
            ApiError::BadRequest(message) => (*message).to_owned(),
            ApiError::PayloadTooLarge => format!(
                "request body too large: the limit is {} KiB ({} bytes)",
                super::BODY_LIMIT / 1024,
                super::BODY_LIMIT
            ),
            ApiError::NotFound => "not found".to_owned(),
            ApiError::MethodNotAllowed(method) => format!("{method} is not allowed here"),
            ApiError::Conflict { message, .. } => (*message).to_owned(),
            ApiError::IdempotencyConflict => {
                "this Idempotency-Key was already used for a request with another body; \
                 a new request needs a new key"
                    .to_owned()
            }
            ApiError::InvalidIdempotencyKey(why) => format!("invalid Idempotency-Key: {why}"),
            ApiError::Unavailable => "service temporarily unavailable, retry later".to_owned(),
            ApiError::Internal => "internal server error".to_owned(),
        }
    }

    /// The message for each field at fault (none when the error is not about a field).
    pub(crate) fn field_errors(&self) -> BTreeMap<&'static str, String> {
        match self {
            ApiError::Validation(errors) => errors.clone(),
            ApiError::Conflict {
                field: Some(field),
                message,
            } => BTreeMap::from([(*field, (*message).to_owned())]),
            _ => BTreeMap::new(),
        }
    }

    /// The JSON body: `{error}` plus `{errors: {field: message}}` where fields are at fault.
    pub fn body(&self) -> serde_json::Value {
        match self {
            ApiError::Validation(errors) => json!({ "error": self.message(), "errors": errors }),
            ApiError::Conflict {
                field: Some(field),
                message,
            } => json!({ "error": message, "errors": { *field: message } }),
            _ => json!({ "error": self.message() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                tracing::info!(error = %e, "write refused: unique violation");
                return ApiError::Conflict {
                    field: None,
                    message: "conflicts with an existing record",
                };
            }
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                tracing::info!(error = %e, "write refused: missing parent row");
                return ApiError::NotFound;
            }
            _ => {}
        }
        match e {
            RepoError::IdempotencyConflict => {
                tracing::info!("write refused: idempotency key reused for another body");
                ApiError::IdempotencyConflict
            }
            RepoError::PrimaryUnavailable { .. }
            | RepoError::CircuitOpen { .. }
            | RepoError::Unreachable { .. } => {
                tracing::warn!(error = %e, kind = e.kind(), "database unavailable");
                ApiError::Unavailable
            }
            other => {
                tracing::error!(error = %other, kind = other.kind(), "repository call failed");
                ApiError::Internal
            }
        }
    }
}
