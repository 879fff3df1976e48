//! `Candidates`: which nodes must hold a write before a `Durability::Candidates` write is
//! answered.

use std::collections::{BTreeSet, HashMap};

use super::Position;

/// The nodes that must hold a write: LiteFS's lease candidates (the nodes that can become
/// primary), named, or a number of replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates {
    /// Every one of these nodes (by lease hostname) except the primary itself. Name every
    /// node with `lease.candidate: true`: an acknowledged write then survives a failover to
    /// any of them.
    Named(BTreeSet<String>),
    /// At least this many replicas, whichever they are. Weaker: a failover to a replica
    /// that was not among them can still lose the write.
    AtLeast(usize),
}

impl Candidates {
    /// The nodes `names` (the primary's own name may be among them: it is skipped).
    pub fn named<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Candidates::Named(names.into_iter().map(Into::into).collect())
    }

    /// At least `n` replicas.
    pub fn at_least(n: usize) -> Self {
        Candidates::AtLeast(n)
    }

    /// What is still missing for `target` on primary `me`, given the replicas' `reports`:
    /// empty when every required candidate holds it.
    pub(crate) fn missing(
        &self,
        me: &str,
        reports: &HashMap<String, Position>,
        target: Position,
    ) -> Vec<String> {
        let holds = |name: &str| reports.get(name).is_some_and(|p| p.holds(target));
        match self {
            Candidates::Named(names) => names
                .iter()
                .filter(|n| n.as_str() != me && !holds(n))
                .cloned()
                .collect(),
            Candidates::AtLeast(n) => {
                let have = reports
                    .iter()
                    .filter(|(name, p)| name.as_str() != me && p.holds(target))
                    .count();
                match n.checked_sub(have) {
                    Some(0) | None => Vec::new(),
                    Some(more) => vec![format!("{more} more")],
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lineage: u64, txid: u64) -> Position {
        Position {
            lineage,
            txid,
            checksum: 0,
        }
    }

    #[test]
    fn named_candidates_must_each_hold_the_write_in_its_lineage() {
        let rule = Candidates::named(["node-1", "node-2", "node-3"]);
        let mut reports = HashMap::new();
        assert_eq!(
            rule.missing("node-1", &reports, at(1, 5)),
            ["node-2", "node-3"]
        );
        reports.insert("node-2".to_owned(), at(1, 5));
        reports.insert("node-3".to_owned(), at(0, 50));
        assert_eq!(rule.missing("node-1", &reports, at(1, 5)), ["node-3"]);
        reports.insert("node-3".to_owned(), at(1, 6));
        assert!(rule.missing("node-1", &reports, at(1, 5)).is_empty());
    }

    #[test]
    fn at_least_counts_replicas_other_than_the_primary() {
        let rule = Candidates::at_least(2);
        let mut reports = HashMap::new();
        reports.insert("node-1".to_owned(), at(1, 9));
        reports.insert("node-2".to_owned(), at(1, 9));
        assert_eq!(rule.missing("node-1", &reports, at(1, 5)), ["1 more"]);
        reports.insert("node-3".to_owned(), at(1, 5));
        assert!(rule.missing("node-1", &reports, at(1, 5)).is_empty());
        assert!(
            Candidates::at_least(0)
                .missing("x", &HashMap::new(), at(1, 1))
                .is_empty()
        );
    }
}
