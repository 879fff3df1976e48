//! `ClusterSecret`: the shared secret every forwarded request must carry.

use std::fmt;
use std::sync::Arc;

use subtle::ConstantTimeEq;

/// The metadata key the secret travels in, as `Bearer <secret>`.
pub(crate) const AUTHORIZATION: &str = "authorization";

/// A secret shared by the nodes of a cluster. Compared in constant time; never printed.
#[derive(Clone)]
pub struct ClusterSecret(Arc<[u8]>);

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Shorter than [`ClusterSecret::MIN_LEN`] bytes.
    #[error(
        "the cluster secret must be at least {} bytes long",
        ClusterSecret::MIN_LEN
    )]
    TooShort,
    /// Holds characters that cannot travel in gRPC metadata.
    #[error("the cluster secret must be printable ASCII without spaces")]
    NotPrintable,
}

impl ClusterSecret {
    /// The shortest secret accepted.
    pub const MIN_LEN: usize = 16;

    /// A secret; at least 16 printable ASCII characters without spaces.
    pub fn new(secret: impl AsRef<str>) -> Result<Self, SecretError> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            return Err(SecretError::TooShort);
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(SecretError::NotPrintable);
        }
        Ok(Self(secret.as_bytes().into()))
    }

    /// The metadata value that carries it.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", String::from_utf8_lossy(&self.0))
    }

    /// Whether a metadata value carries this secret (constant time in the secret).
    pub(crate) fn matches(&self, header: &[u8]) -> bool {
        let Some(token) = header.strip_prefix(b"Bearer ") else {
            return false;
        };
        token.ct_eq(&self.0).into()
    }
}

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_and_matches() {
        assert_eq!(
            ClusterSecret::new("short").err(),
            Some(SecretError::TooShort)
        );
        assert_eq!(
            ClusterSecret::new("has a space in it!!").err(),
            Some(SecretError::NotPrintable)
        );
        let s = ClusterSecret::new("0123456789abcdef").expect("valid");
        assert!(s.matches(s.bearer().as_bytes()));
        assert!(!s.matches(b"Bearer 0123456789abcdeX"));
        assert!(!s.matches(b"0123456789abcdef"));
        assert!(!s.matches(b"Bearer 0123456789abcdef0"));
        assert_eq!(format!("{s:?}"), "ClusterSecret(..)");
    }
}
