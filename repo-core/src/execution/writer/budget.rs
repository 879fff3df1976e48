//! `Budget`: the deadline of the statement running on the writer connection, checked by
//! SQLite itself while the statement runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// How many SQLite virtual-machine instructions run between two checks of the budget.
///
/// One check is an atomic load and a clock read (~20 ns). Most instructions take nanoseconds,
/// but one that calls a function over a large value can take milliseconds, so the checks are
/// close together: a statement of cheap instructions is interrupted within microseconds of
/// its deadline, one of expensive instructions within about a hundred of them. An ORM write
/// runs fewer instructions than this and never calls the handler.
pub(crate) const CHECK_EVERY_OPS: i32 = 100;

/// No deadline is set: statements run unbounded (between turns, only internal statements
/// such as a connection's own setup run).
const UNLIMITED: u64 = u64::MAX;

/// The deadline of the current turn on the writer connection, shared with that connection's
/// SQLite progress handler (which runs on sqlx's worker thread).
#[derive(Debug)]
pub(crate) struct Budget {
    /// The clock's zero: deadlines are stored as nanoseconds after it, in one atomic.
    origin: Instant,
    /// Nanoseconds after `origin` at which the running statement is interrupted.
    deadline: AtomicU64,
}

impl Budget {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            origin: Instant::now(),
            deadline: AtomicU64::new(UNLIMITED),
        })
    }

    /// Statements from now on are interrupted once `deadline` passes.
    pub(crate) fn set(&self, deadline: Instant) {
        let nanos = deadline.saturating_duration_since(self.origin).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(UNLIMITED - 1);
        self.deadline.store(nanos, Ordering::Release);
    }

    /// Statements from now on run without a deadline.
    pub(crate) fn clear(&self) {
        self.deadline.store(UNLIMITED, Ordering::Release);
    }

    /// Whether the current deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        let deadline = self.deadline.load(Ordering::Acquire);
        deadline != UNLIMITED && self.origin.elapsed().as_nanos() >= u128::from(deadline)
    }

    /// The progress handler to install on the writer connection: `false` interrupts SQLite.
    pub(crate) fn handler(self: &Arc<Self>) -> impl FnMut() -> bool + Send + 'static {
        let budget = Arc::clone(self);
        move || !budget.expired()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_budget_expires_at_its_deadline_and_not_before() {
        let budget = Budget::new();
        let mut handler = budget.handler();
        assert!(handler(), "no deadline set: statements run");
        budget.set(Instant::now() + Duration::from_secs(3600));
        assert!(handler(), "deadline in an hour");
        budget.set(Instant::now() - Duration::from_millis(1));
        assert!(!handler(), "deadline passed: interrupt");
        assert!(budget.expired());
        budget.clear();
        assert!(handler(), "cleared: statements run again");
    }
}
