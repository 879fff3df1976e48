//! `CommitGuard`: a question the writer connection asks at every commit — may this node
//! commit now? — so that a node that lost its right to write (a lease, a fence) refuses at
//! once, whatever its own view of its role says.
//!
//! The guard runs inside SQLite's commit hook on the writer connection: a `false` turns the
//! commit into a rollback, and the write fails with [`RepoError::NotPrimary`] (retryable,
//! nothing written), so that a forwarding replica retries on the primary it finds next.
//! Only the writer connection is guarded: a connection the application opens and writes on
//! by itself is not.
//!
//! [`RepoError::NotPrimary`]: crate::RepoError::NotPrimary

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Decides, at each commit on the writer connection, whether this node may commit (see the
/// module docs). Cheap to clone; the check must be fast and must not block: it runs inside
/// SQLite's commit, on the connection's thread.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use repo_core::{CommitGuard, WriterConfig};
/// let lease_held = Arc::new(AtomicBool::new(true));
/// let held = lease_held.clone();
/// let config = WriterConfig::default()
///     .commit_guard(CommitGuard::new(move || held.load(Ordering::SeqCst)));
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct CommitGuard {
    /// The check, shared by every clone.
    allows: Arc<dyn Fn() -> bool + Send + Sync>,
    /// Told when a transaction on the writer connection rolls back.
    rolled_back: Option<Arc<dyn Fn() + Send + Sync>>,
}

impl CommitGuard {
    /// A guard that lets a commit through when `allows` returns `true`.
    pub fn new(allows: impl Fn() -> bool + Send + Sync + 'static) -> Self {
        Self {
            allows: Arc::new(allows),
            rolled_back: None,
        }
    }

    /// Also calls `rolled_back` whenever a transaction on the writer connection rolls back,
    /// a commit the guard let through that then failed inside SQLite (an I/O error, say)
    /// included: for a guard that notes, when it lets a commit through, what the commit is
    /// about to write. Same rules as the check: fast, never blocking, on SQLite's thread.
    pub fn on_rollback(mut self, rolled_back: impl Fn() + Send + Sync + 'static) -> Self {
        self.rolled_back = Some(Arc::new(rolled_back));
        self
    }

    /// The rollback hook for the writer connection, if the guard asked to be told.
    pub(crate) fn rollback_hook(&self) -> Option<impl FnMut() + Send + use<>> {
        let rolled_back = self.rolled_back.clone()?;
        Some(move || rolled_back())
    }

    /// Whether a commit may happen now.
    pub fn allows(&self) -> bool {
        (self.allows)()
    }

    /// Whether `self` and `other` are the same guard (clones of one another).
    pub(crate) fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.allows, &other.allows)
    }
}

impl fmt::Debug for CommitGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommitGuard").finish_non_exhaustive()
    }
}

/// Whether the guard refused a commit during the current turn: the writer's turn clears it
/// when it starts and reads it when it ends, to report the failure as "not the primary".
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    /// Set by the commit hook when the guard said no.
    refused: AtomicBool,
}

impl Refusals {
    /// The commit hook for `guard`: asks it, and remembers a refusal.
    pub(crate) fn hook(self: Arc<Self>, guard: CommitGuard) -> impl FnMut() -> bool + Send + use<> {
        let refusals = self;
        move || {
            let allowed = guard.allows();
            if !allowed {
                refusals.refused.store(true, Ordering::SeqCst);
            }
            allowed
        }
    }

    /// Forgets earlier refusals (a new turn starts).
    pub(crate) fn clear(&self) {
        self.refused.store(false, Ordering::SeqCst);
    }

    /// Whether a commit was refused since the last [`Refusals::clear`].
    pub(crate) fn any(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }
}
