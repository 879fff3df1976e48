//! Accepted statements, remembered so that the statements the ORM sends over and over are
//! parsed once: bounded in bytes, and never holding a refusal.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use super::policy::AllowlistPolicy;

/// A set of statements already accepted, each with the policy that accepted it.
///
/// sea-orm binds values instead of inlining them, so a service sends the same few
/// statement texts over and over; checking one costs tens of microseconds, finding it here
/// a fraction of one. Only accepted statements are kept (a refusal is cheap to repeat and
/// must not let a client fill the cache), statements longer than
/// [`max_statement_len`](Self::new) are not kept, and the keys' total size is bounded by
/// `max_bytes` (each entry also counts [`ENTRY_OVERHEAD`](Self::ENTRY_OVERHEAD) bytes):
/// when a new statement would pass that, the cache is emptied and starts again.
///
/// ```
/// use repo_litefs::allowlist::{AllowlistPolicy, VerdictCache};
///
/// let cache = VerdictCache::default();
/// let policy = AllowlistPolicy::default();
/// assert!(!cache.is_accepted("DELETE FROM t", &policy));
/// cache.remember("DELETE FROM t", &policy);
/// assert!(cache.is_accepted("DELETE FROM t", &policy));
/// // A statement accepted under one policy is not taken as accepted under another.
/// assert!(!cache.is_accepted("DELETE FROM t", &policy.allow_recursive_cte(true)));
/// ```
#[derive(Debug)]
pub struct VerdictCache {
    /// The accepted statements and their size; read on every forwarded write.
    accepted: RwLock<Accepted>,
    /// The most bytes the entries may take, overhead included.
    max_bytes: usize,
    /// The longest statement kept, in bytes.
    max_statement_len: usize,
}

/// The cache's contents.
#[derive(Debug, Default)]
struct Accepted {
    /// Each accepted statement, with the policy it was accepted under.
    statements: HashMap<Box<str>, AllowlistPolicy>,
    /// The bytes the entries take, overhead included.
    bytes: usize,
}

impl VerdictCache {
    /// Default `max_bytes`: 4 MiB.
    pub const DEFAULT_MAX_BYTES: usize = 4 << 20;
    /// Default `max_statement_len`: 128 KiB, one thirty-second of the default budget. The
    /// largest insert sea-orm can send SQLite (32,766 placeholders) is about 105 KB, and
    /// checking a 96 KB, 30,000-placeholder insert costs ~18 ms against ~25 µs to find it
    /// here (release build), so leaving those out would cost batch writers dearly.
    pub const DEFAULT_MAX_STATEMENT_LEN: usize = 128 << 10;
    /// Bytes counted for each entry besides its text: the map's slot and the policy.
    pub const ENTRY_OVERHEAD: usize = 64;

    /// A cache whose entries take at most `max_bytes` and keep no statement longer than
    /// `max_statement_len` bytes.
    pub fn new(max_bytes: usize, max_statement_len: usize) -> Self {
        Self {
            accepted: RwLock::default(),
            max_bytes,
            max_statement_len,
        }
    }

    /// Whether `sql` was accepted under `policy` before. This is the path every forwarded
    /// write takes: one hash, one read lock, no allocation.
    pub fn is_accepted(&self, sql: &str, policy: &AllowlistPolicy) -> bool {
        let accepted = self.accepted.read().unwrap_or_else(PoisonError::into_inner);
        accepted.statements.get(sql) == Some(policy)
    }

    /// Remembers that `sql` was accepted under `policy`, unless it is too long to keep.
    pub fn remember(&self, sql: &str, policy: &AllowlistPolicy) {
        if sql.len() > self.max_statement_len {
            return;
        }
        let size = sql.len() + Self::ENTRY_OVERHEAD;
        if size > self.max_bytes {
            return;
        }
        let mut accepted = self
            .accepted
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = accepted.statements.get_mut(sql) {
            *kept = *policy;
            return;
        }
        if accepted.bytes + size > self.max_bytes {
            accepted.statements.clear();
            accepted.statements.shrink_to_fit();
            accepted.bytes = 0;
        }
        accepted.statements.insert(sql.into(), *policy);
        accepted.bytes += size;
    }

    /// How many statements are remembered.
    pub fn len(&self) -> usize {
        self.read().statements.len()
    }

    /// Whether no statement is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes the entries take, overhead included; at most `max_bytes`.
    pub fn bytes(&self) -> usize {
        self.read().bytes
    }

    /// The contents, even if a writer panicked (nothing here leaves them inconsistent).
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Accepted> {
        self.accepted.read().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for VerdictCache {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_BYTES, Self::DEFAULT_MAX_STATEMENT_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_stay_within_the_budget() {
        let cache = VerdictCache::new(10_000, 1_000);
        let policy = AllowlistPolicy::default();
        for i in 0..10_000 {
            cache.remember(&format!("DELETE FROM t WHERE a = {i:0>200}"), &policy);
            assert!(cache.bytes() <= 10_000);
        }
        assert!(!cache.is_empty());
    }

    #[test]
    fn long_statements_are_not_kept() {
        let cache = VerdictCache::new(1 << 20, 100);
        let policy = AllowlistPolicy::default();
        let long = format!("DELETE FROM t WHERE a = {}", "1".repeat(100));
        cache.remember(&long, &policy);
        assert!(!cache.is_accepted(&long, &policy));
        cache.remember("DELETE FROM t", &policy);
        assert!(cache.is_accepted("DELETE FROM t", &policy));
        assert_eq!(cache.len(), 1);
    }
}
