//! Conversions between `repo-core`'s data model and the `litefs.forward.v1` messages.
//!
//! Every conversion is total and exhaustive (no `_` arm where a new variant must be decided
//! on). Decoding never panics: a malformed message becomes a [`ConvertError`], which the
//! server answers with `INVALID_ARGUMENT`.

mod action;
mod array;
mod db_err;
mod error;
mod lookup;
mod outcome;
mod reject;
mod request;
mod value;

pub(crate) use action::encode_action;
pub use db_err::{ErrorFields, SqlStateError, decode_db_err, encode_db_err};
pub use error::{error_from_status, status_from_error};
pub(crate) use lookup::{decode_lookup, encode_lookup};
pub use outcome::{decode_outcome, encode_outcome};
pub(crate) use request::encode_operation;
pub use request::{decode_request, encode_request};
pub use value::{decode_parameter, decode_value, encode_value};

/// A message that does not describe a valid request or response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed forwarding message: {0}")]
pub struct ConvertError(pub String);

impl ConvertError {
    pub(crate) fn missing(what: &str) -> Self {
        Self(format!("{what} is missing"))
    }
}

impl From<ConvertError> for repo_core::RepoError {
    fn from(e: ConvertError) -> Self {
        repo_core::RepoError::Codec(e.0)
    }
}

impl From<repo_core::RepoError> for ConvertError {
    fn from(e: repo_core::RepoError) -> Self {
        ConvertError(e.to_string())
    }
}
