//! `CommitLog`: the pages each guarded commit on a node's file writes, by the change counter
//! the commit leaves, so that the replication loop reads only those pages of the primary
//! instead of its whole file.
//!
//! A node's commit guard records a commit from its journal ([`super::journal`]) before
//! SQLite writes it, and forgets it when the transaction rolls back instead. The loop asks
//! for the commits between two counters it read under SQLite's lock; a counter nobody
//! reported (a commit by a connection outside the guarded writer, a log that overflowed)
//! makes it compare the file whole, as before.

use std::collections::{BTreeSet, HashMap};

use super::journal::CommitPages;

/// How many commits a log keeps: a loop further behind compares the file whole.
const KEPT: u32 = 4096;

/// The commits reported on one node's file (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct CommitLog {
    /// What each commit wrote, by the change counter it leaves.
    by_counter: HashMap<u32, Changed>,
}

/// Pages of a file that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Changed {
    /// Every page from this index on may be new (the file may have grown from there).
    pub(crate) from_page: u32,
    /// Indexes of changed pages before that.
    pub(crate) pages: BTreeSet<u32>,
}

impl Changed {
    /// Nothing changed.
    fn none() -> Self {
        Self {
            from_page: u32::MAX,
            pages: BTreeSet::new(),
        }
    }

    /// Adds what `other` changed.
    fn add(&mut self, other: &Changed) {
        self.from_page = self.from_page.min(other.from_page);
        self.pages.extend(&other.pages);
    }
}

impl CommitLog {
    /// Records a commit about to be written (a commit attempted again adds to the first).
    pub(crate) fn record(&mut self, commit: CommitPages) {
        if self.by_counter.len() >= KEPT as usize {
            // Nobody is reading (no replication loop on this node): start over.
            self.by_counter.clear();
        }
        self.by_counter
            .entry(commit.counter)
            .or_insert_with(Changed::none)
            .add(&Changed {
                from_page: commit.original_pages,
                pages: commit.pages.into_iter().collect(),
            });
    }

    /// A transaction rolled back, leaving the file's counter at `counter` (`None`: unknown):
    /// a commit recorded as leaving the next counter did not happen.
    pub(crate) fn rolled_back(&mut self, counter: Option<u32>) {
        match counter {
            Some(counter) => {
                self.by_counter.remove(&counter.wrapping_add(1));
            }
            None => self.by_counter.clear(),
        }
    }

    /// Whether every commit that took the file's counter from `from` to `to` is recorded.
    pub(crate) fn covers(&self, from: u32, to: u32) -> bool {
        let count = to.wrapping_sub(from);
        count < KEPT && (1..=count).all(|k| self.by_counter.contains_key(&from.wrapping_add(k)))
    }

    /// What the commits that took the file's counter from `from` to `to` changed; `None`
    /// when one of them was not recorded. Forgets them (and any older).
    pub(crate) fn changes(&mut self, from: u32, to: u32) -> Option<Changed> {
        let count = to.wrapping_sub(from);
        let changed = (count < KEPT)
            .then(|| {
                (1..=count).try_fold(Changed::none(), |mut all, k| {
                    all.add(self.by_counter.get(&from.wrapping_add(k))?);
                    Some(all)
                })
            })
            .flatten();
        // Kept: the commit right after `to` only, which may be under way (its hook ran; it
        // waits for the reader's lock to write). A report further ahead cannot be of a
        // commit yet to come: it was filed under a counter the file never showed (a commit
        // in exclusive locking mode, which SQLite does not count) and must not stand for a
        // later commit that reaches that counter.
        self.by_counter
            .retain(|counter, _| counter.wrapping_sub(to) == 1);
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(counter: u32, original_pages: u32, pages: &[u32]) -> CommitPages {
        CommitPages {
            counter,
            original_pages,
            pages: pages.to_vec(),
        }
    }

    #[test]
    fn a_run_of_recorded_commits_is_their_union() {
        let mut log = CommitLog::default();
        log.record(commit(8, 10, &[2, 3]));
        log.record(commit(9, 12, &[3, 5]));
        assert!(log.covers(7, 9) && !log.covers(7, 10));
        assert_eq!(
            log.changes(7, 9),
            Some(Changed {
                from_page: 10,
                pages: BTreeSet::from([2, 3, 5]),
            })
        );
        assert_eq!(log.changes(9, 9), Some(Changed::none()), "no commit");
        assert_eq!(log.changes(9, 10), None, "forgotten once read");
    }

    #[test]
    fn a_commit_not_recorded_makes_the_run_unknown() {
        let mut log = CommitLog::default();
        log.record(commit(8, 10, &[2]));
        log.record(commit(10, 10, &[4]));
        assert_eq!(log.changes(7, 10), None, "counter 9 was nobody's report");
    }

    #[test]
    fn a_rolled_back_commit_is_forgotten_and_a_retry_adds_up() {
        let mut log = CommitLog::default();
        log.record(commit(8, 10, &[2]));
        log.rolled_back(Some(7));
        assert_eq!(log.changes(7, 8), None);
        log.record(commit(9, 10, &[2]));
        log.record(commit(9, 11, &[6]));
        log.rolled_back(Some(9)); // an unrelated rollback after the commit
        assert_eq!(
            log.changes(8, 9),
            Some(Changed {
                from_page: 10,
                pages: BTreeSet::from([2, 6]),
            })
        );
    }

    #[test]
    fn a_report_beyond_the_next_counter_is_dropped() {
        let mut log = CommitLog::default();
        log.record(commit(8, 10, &[2]));
        // Filed under counters the file never showed (exclusive locking mode).
        log.record(commit(9, 10, &[3]));
        log.record(commit(10, 10, &[4]));
        assert!(log.changes(7, 8).is_some());
        assert!(log.covers(8, 9), "the next counter's report is kept");
        assert!(!log.covers(9, 10), "a report further ahead is not");
    }

    #[test]
    fn a_commit_under_way_is_kept_and_counters_wrap() {
        let mut log = CommitLog::default();
        log.record(commit(u32::MAX, 3, &[1]));
        log.record(commit(0, 3, &[2]));
        log.record(commit(1, 3, &[0]));
        let changed = log.changes(u32::MAX - 1, 0).expect("reported");
        assert_eq!(changed.pages, BTreeSet::from([1, 2]));
        assert_eq!(
            log.changes(0, 1).expect("reported").pages,
            BTreeSet::from([0])
        );
    }
}
