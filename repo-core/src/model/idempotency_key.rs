//! `IdempotencyKey`: a caller's own key for one write, as in Stripe's API and the IETF
//! `Idempotency-Key` header draft.
//!
//! A key names one logical write, however often and through whichever node it is sent. The
//! repository turns it into the request ids of the call's requests (one per statement the
//! call issues, numbered in order), so the primary's ledger answers a replay with the first
//! answer and writes nothing, and refuses the same key with another payload
//! ([`crate::RepoError::IdempotencyConflict`]). A key is remembered as long as the ledger
//! keeps its row (24 hours by default); after that the same key is a new write, as with
//! Stripe.
//!
//! What counts as "the same payload" is what the call *asks the database*: its statements
//! with their values, or a named transaction's name and arguments. Two consequences:
//!
//! - a value computed per attempt (a timestamp taken when the call is made, a random id)
//!   makes a replay another payload, refused as a conflict: take such values inside a named
//!   transaction (it runs on the primary, once) or in SQL;
//! - a write whose statement the caller builds from what it read first (read a counter,
//!   write counter + 1) may ask differently when replayed after its first attempt
//!   committed; the replay is then refused as a conflict — never applied twice. Write such
//!   updates in SQL (`col = col + 1`) or as a named transaction.

use std::fmt;

use crate::request::RequestId;

/// The longest key, in bytes (Stripe's limit).
pub const MAX_KEY_BYTES: usize = 255;

/// A validated idempotency key: 1 to [`MAX_KEY_BYTES`] visible ASCII characters (no spaces
/// or control characters: it may travel in an HTTP header and in logs).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// Why a string is not an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// The key is empty.
    #[error("an idempotency key cannot be empty")]
    Empty,
    /// The key is longer than [`MAX_KEY_BYTES`].
    #[error("an idempotency key has at most {MAX_KEY_BYTES} bytes; this one has {0}")]
    TooLong(usize),
    /// The key holds something other than visible ASCII.
    #[error(
        "an idempotency key holds only visible ASCII characters ('!' to '~'); \
         found a byte {0:#04x} (use a UUID, for example)"
    )]
    Character(u8),
}

impl IdempotencyKey {
    /// Validates `key`.
    ///
    /// # Errors
    ///
    /// [`InvalidKey`] when it is empty, too long or holds other than visible ASCII.
    pub fn new(key: impl Into<String>) -> Result<Self, InvalidKey> {
        let key = key.into();
        if key.is_empty() {
            return Err(InvalidKey::Empty);
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(InvalidKey::TooLong(key.len()));
        }
        if let Some(b) = key.bytes().find(|b| !(0x21..=0x7e).contains(b)) {
            return Err(InvalidKey::Character(b));
        }
        Ok(Self(key))
    }

    /// The key as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The request id of the `n`th request of a call made with this key (a UUIDv8 built
    /// from a SHA-256 of the key and `n`): the same on every node and every attempt.
    pub fn request_id(&self, n: u32) -> RequestId {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"repo-core idempotency key v1\0");
        hasher.update(self.0.as_bytes());
        hasher.update(b"\0");
        hasher.update(n.to_be_bytes());
        let digest = hasher.finalize();
        let mut bytes = [0_u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        RequestId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
    }
}

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdempotencyKey").field(&self.0).finish()
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_validated() {
        assert!(IdempotencyKey::new("8e03978e-40d5-43e8-bc93-6894a57f9324").is_ok());
        assert_eq!(IdempotencyKey::new(""), Err(InvalidKey::Empty));
        assert_eq!(
            IdempotencyKey::new("x".repeat(256)),
            Err(InvalidKey::TooLong(256))
        );
        assert!(IdempotencyKey::new("x".repeat(255)).is_ok());
        assert_eq!(IdempotencyKey::new("a b"), Err(InvalidKey::Character(b' ')));
        assert_eq!(
            IdempotencyKey::new("a\nb"),
            Err(InvalidKey::Character(b'\n'))
        );
        assert_eq!(IdempotencyKey::new("é"), Err(InvalidKey::Character(0xc3)));
    }

    #[test]
    fn request_ids_are_stable_distinct_and_version_8() {
        let key = IdempotencyKey::new("order-42").expect("key");
        let again = IdempotencyKey::new("order-42").expect("key");
        assert_eq!(key.request_id(0), again.request_id(0));
        assert_ne!(key.request_id(0), key.request_id(1));
        let other = IdempotencyKey::new("order-43").expect("key");
        assert_ne!(key.request_id(0), other.request_id(0));
        assert_eq!(key.request_id(0).0.get_version_num(), 8);
        // Never a UUIDv7: the ledger's retention check reads time only from those.
        assert_ne!(key.request_id(7).0.get_version_num(), 7);
    }
}
