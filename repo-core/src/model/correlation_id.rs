//! `CorrelationId`: the id of the caller's own request (an HTTP `x-request-id`, a job id)
//! that travels with every write it makes, so that one request can be followed through
//! every node's logs, the primary's included.
//!
//! An application runs the work of one request inside [`CorrelationId::scope`]; every write
//! created in that scope carries the id ([`crate::Request::correlation`]), and a transport
//! (the LiteFS forwarding layer) sends it along to the node that executes the write. The id
//! is input from outside and reaches log lines: it is validated once, here: 1 to
//! [`MAX_CORRELATION_ID_BYTES`] letters, digits, `-` or `_`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

/// The longest correlation id, in bytes.
pub const MAX_CORRELATION_ID_BYTES: usize = 64;

tokio::task_local! {
    /// The correlation id of the request this task is working for.
    static CURRENT: CorrelationId;
}

/// A validated correlation id (see the module docs). Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CorrelationId(Arc<str>);

/// Why a string is not a correlation id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidCorrelationId {
    /// The id is empty.
    #[error("a correlation id cannot be empty")]
    Empty,
    /// The id is longer than [`MAX_CORRELATION_ID_BYTES`].
    #[error("a correlation id has at most {MAX_CORRELATION_ID_BYTES} bytes; this one has {0}")]
    TooLong(usize),
    /// The id holds a byte other than a letter, a digit, `-` or `_`.
    #[error("a correlation id holds only letters, digits, '-' and '_'; found a byte {0:#04x}")]
    Character(u8),
}

impl CorrelationId {
    /// Validates `id`.
    ///
    /// # Errors
    ///
    /// [`InvalidCorrelationId`] when it is empty, too long or holds another character.
    ///
    /// ```
    /// use repo_core::CorrelationId;
    /// assert_eq!(CorrelationId::new("req-42").unwrap().as_str(), "req-42");
    /// assert!(CorrelationId::new("two words").is_err());
    /// ```
    pub fn new(id: &str) -> Result<Self, InvalidCorrelationId> {
        if id.is_empty() {
            return Err(InvalidCorrelationId::Empty);
        }
        if id.len() > MAX_CORRELATION_ID_BYTES {
            return Err(InvalidCorrelationId::TooLong(id.len()));
        }
        if let Some(b) = id
            .bytes()
            .find(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_'))
        {
            return Err(InvalidCorrelationId::Character(b));
        }
        Ok(Self(Arc::from(id)))
    }

    /// The id as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of the scope the current task runs in, if any.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    /// Runs `work` with this id as the current one: writes it creates carry it.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CorrelationId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_length_and_characters() {
        assert_eq!(CorrelationId::new(""), Err(InvalidCorrelationId::Empty));
        let long = "a".repeat(MAX_CORRELATION_ID_BYTES + 1);
        assert_eq!(
            CorrelationId::new(&long),
            Err(InvalidCorrelationId::TooLong(65))
        );
        assert_eq!(
            CorrelationId::new("a\nINFO forged"),
            Err(InvalidCorrelationId::Character(b'\n'))
        );
        assert!(CorrelationId::new(&"a".repeat(MAX_CORRELATION_ID_BYTES)).is_ok());
    }

    #[tokio::test]
    async fn the_scope_sets_the_current_id() {
        assert_eq!(CorrelationId::current(), None);
        let id = CorrelationId::new("req-1").expect("valid");
        let seen = id.clone().scope(async { CorrelationId::current() }).await;
        assert_eq!(seen, Some(id));
    }
}
