//! `TenureHistory`: what the primary's own database looked like at each TXID of its
//! tenure, so that a replica's LiteFS position (TXID and checksum, no lineage) counts only
//! when it is provably a state of this primary's history.

use std::collections::BTreeMap;

/// The most (TXID, checksum) pairs kept; older ones are forgotten (a replica reporting one
/// of them is not counted until it reports a newer one).
pub const MAX_COMMITS: usize = 4096;

/// The positions (TXID → post-apply checksum) this node observed in its own `<db>-pos`
/// while primary, in its current tenure, and that tenure's number (the lineage under which
/// replicas' reports are counted).
///
/// LiteFS's checksum covers the whole database, so a replica reporting the TXID and the
/// checksum this primary had at that TXID holds the same database, every write up to it
/// included, whatever path brought it there. A TXID alone proves nothing after a failover:
/// the numbers start again from the new primary's position, and a replica still on the old
/// history can report a TXID as high as a write it does not hold.
///
/// ```
/// use repo_litefs::durability::TenureHistory;
///
/// let mut history = TenureHistory::default();
/// let tenure = history.observe(7, 0xaa);
/// assert_eq!(history.vouch(7, 0xaa), Some(tenure));
/// assert_eq!(history.vouch(7, 0xbb), None, "same TXID, another database");
/// assert_eq!(history.vouch(8, 0xcc), None, "ahead of the primary: unknown");
/// history.begin();
/// assert_eq!(history.vouch(7, 0xaa), None, "a new tenure starts from nothing");
/// ```
#[derive(Debug, Clone, Default)]
pub struct TenureHistory {
    /// Bumped at each new tenure: reports counted in an earlier one no longer hold anything.
    tenure: u64,
    /// This tenure's observed positions, by TXID.
    commits: BTreeMap<u64, u64>,
}

impl TenureHistory {
    /// The current tenure's number (0 before anything was observed).
    pub fn tenure(&self) -> u64 {
        self.tenure
    }

    /// Starts a new tenure: forgets every position (the node became primary again, or its
    /// history changed under it).
    pub fn begin(&mut self) {
        self.tenure = self.tenure.wrapping_add(1).max(1);
        self.commits.clear();
    }

    /// Records this node's own position, read from its `<db>-pos` while it is the primary;
    /// observations must arrive in the order they were read. A TXID lower than one already
    /// seen, or a known TXID with another checksum, means the database is no longer the one
    /// this tenure wrote: a new tenure begins with this position. Returns the tenure.
    pub fn observe(&mut self, txid: u64, checksum: u64) -> u64 {
        let rewritten = self.commits.get(&txid).is_some_and(|&c| c != checksum)
            || self
                .commits
                .last_key_value()
                .is_some_and(|(&t, _)| txid < t);
        if self.tenure == 0 || rewritten {
            self.begin();
        }
        self.commits.insert(txid, checksum);
        while self.commits.len() > MAX_COMMITS {
            self.commits.pop_first();
        }
        self.tenure
    }

    /// The tenure under which a replica at (`txid`, `checksum`) counts: `Some` only when this
    /// tenure observed exactly that position, `None` otherwise (another history, ahead of
    /// this node, or too old to tell).
    pub fn vouch(&self, txid: u64, checksum: u64) -> Option<u64> {
        (self.commits.get(&txid) == Some(&checksum)).then_some(self.tenure)
    }

    /// Whether this tenure observed `txid` (whatever the checksum).
    pub fn knows(&self, txid: u64) -> bool {
        self.commits.contains_key(&txid)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A database's checksum after `txid` transactions of history `branch` (histories share
    /// their states up to `fork`).
    fn checksum(branch: u64, fork: u64, txid: u64) -> u64 {
        if txid <= fork {
            txid.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        } else {
            (txid ^ (branch << 48)).wrapping_mul(0xc2b2_ae3d_27d4_eb4f) | 1
        }
    }

    proptest! {
        /// Whatever the primary happened to read (a sparse, ordered subset of its history) and
        /// whatever a replica reports (its own history, maybe another branch after a fork), a
        /// report is vouched for only when it is a state the primary itself was in, at the
        /// same TXID; and every state the primary read is vouched for.
        #[test]
        fn only_the_primarys_own_states_are_vouched_for(
            fork in 0u64..50,
            len in 1u64..100,
            read in proptest::collection::vec(any::<bool>(), 100),
            replica_branch in 1u64..3,
            reports in proptest::collection::vec(0u64..120, 1..40),
        ) {
            let mut history = TenureHistory::default();
            let mut seen = Vec::new();
            for txid in 1..=len {
                if read[usize::try_from(txid).unwrap_or(0) % read.len()] || txid == len {
                    history.observe(txid, checksum(1, fork, txid));
                    seen.push(txid);
                }
            }
            prop_assert_eq!(history.tenure(), 1, "one history, one tenure");
            for &txid in &seen {
                prop_assert_eq!(history.vouch(txid, checksum(1, fork, txid)), Some(1));
            }
            for txid in reports {
                let reported = checksum(replica_branch, fork, txid);
                let same_state = txid <= len && reported == checksum(1, fork, txid);
                if history.vouch(txid, reported).is_some() {
                    prop_assert!(same_state && seen.contains(&txid));
                }
            }
        }

        /// After a new tenure nothing of the old one counts, and a rewritten history (lower
        /// TXID, or another checksum at a known TXID) starts one by itself.
        #[test]
        fn a_changed_history_starts_a_new_tenure(txid in 2u64..1000, c in any::<u64>()) {
            let mut history = TenureHistory::default();
            let first = history.observe(txid, c);
            let again = history.observe(txid, c ^ 1);
            prop_assert!(again != first);
            prop_assert_eq!(history.vouch(txid, c), None);
            let lower = history.observe(txid - 1, c);
            prop_assert!(lower != again);
            prop_assert_eq!(history.vouch(txid, c ^ 1), None);
            prop_assert_eq!(history.vouch(txid - 1, c), Some(lower));
        }
    }

    #[test]
    fn the_history_is_bounded() {
        let mut history = TenureHistory::default();
        for txid in 1..=(MAX_COMMITS as u64 + 10) {
            history.observe(txid, txid);
        }
        assert!(!history.knows(1));
        assert!(history.knows(MAX_COMMITS as u64 + 10));
        assert_eq!(history.tenure(), 1);
    }
}
