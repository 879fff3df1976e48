//! `Durability`: when a write counts as done — committed on the primary, or also held by
//! every lease candidate.

/// When the primary answers a write.
///
/// Replication from the primary is asynchronous (LiteFS's is), so a write the primary has
/// committed can be lost in a failover that promotes a node it had not reached yet. A
/// caller that cannot afford that asks for [`Durability::Candidates`].
///
/// ```
/// use repo_core::Durability;
///
/// assert_eq!(Durability::default(), Durability::Primary);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Durability {
    /// Answer once the write committed on the primary (the default). Fast; a failover can
    /// lose the writes the new primary had not received yet.
    #[default]
    Primary,
    /// Answer only once every lease candidate (the node's configured set, or at least N
    /// replicas) reports holding the write, bounded by the call's deadline; when the bound
    /// passes first, the call fails with `RepoError::NotReplicated` (the write **did**
    /// commit on the primary). An acknowledged write then survives the failover to any
    /// candidate.
    Candidates,
}

impl Durability {
    /// A short stable label: `primary` or `candidates`.
    pub fn label(self) -> &'static str {
        match self {
            Durability::Primary => "primary",
            Durability::Candidates => "candidates",
        }
    }
}
