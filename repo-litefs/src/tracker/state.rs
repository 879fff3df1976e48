//! What the tracker knows: this node's [`Role`] and the current primary's hostname.

use std::fmt;

/// This node's role in the cluster: the one role type of the workspace (`repo_core`'s),
/// named as the tracker reports it. `Primary`: this node holds the lease, writes run here;
/// `Replica`: another node is (or was last seen as) the primary, writes go there; `Unknown`:
/// nothing reliable says which (LiteFS unreachable, starting, in a failover, or an absent
/// `.primary` file, see the [module docs](super)).
pub use repo_core::NodeRole as Role;

/// A snapshot of this node's role and of who the primary is.
///
/// ```
/// use repo_litefs::tracker::{PrimaryState, Role};
///
/// let state = PrimaryState::replica(Some("node-2".into()));
/// assert_eq!(state.role, Role::Replica);
/// assert!(!state.is_primary());
/// assert!(state.primary_known());
/// assert!(!PrimaryState::replica(None).primary_known());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimaryState {
    /// This node's role.
    pub role: Role,
    /// Hostname of the current primary (LiteFS's `lease.hostname`, never a URL). On the primary
    /// itself this is its own hostname when known, from LiteFS or
    /// [`TrackerConfig::self_hostname`](super::TrackerConfig::self_hostname).
    pub primary: Option<String>,
}

impl PrimaryState {
    /// Nothing is known: the state before LiteFS has answered.
    pub fn unknown() -> Self {
        Self {
            role: Role::Unknown,
            primary: None,
        }
    }

    /// This node is the primary; `hostname` is its own hostname, if known.
    pub fn primary(hostname: Option<String>) -> Self {
        Self {
            role: Role::Primary,
            primary: hostname,
        }
    }

    /// This node is a replica of `primary` (`None`: a replica that has lost its primary).
    pub fn replica(primary: Option<String>) -> Self {
        Self {
            role: Role::Replica,
            primary,
        }
    }

    /// Whether this node is the primary, so writes may run locally.
    pub fn is_primary(&self) -> bool {
        self.role == Role::Primary
    }

    /// Whether this node is a replica.
    pub fn is_replica(&self) -> bool {
        self.role == Role::Replica
    }

    /// Whether a write has somewhere to go: this node is the primary, or it is a replica that
    /// knows the primary's hostname. This is what
    /// [`PrimaryTracker::wait_for_primary`](super::PrimaryTracker::wait_for_primary) waits for.
    pub fn primary_known(&self) -> bool {
        match self.role {
            Role::Primary => true,
            Role::Replica => self.primary.is_some(),
            Role::Unknown => false,
        }
    }

    /// The primary's hostname when this node is a replica that knows it: where to forward writes.
    pub fn forward_to(&self) -> Option<&str> {
        match self.role {
            Role::Replica => self.primary.as_deref(),
            Role::Primary | Role::Unknown => None,
        }
    }
}

impl Default for PrimaryState {
    fn default() -> Self {
        Self::unknown()
    }
}

impl fmt::Display for PrimaryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.role, &self.primary) {
            (Role::Primary, Some(host)) => write!(f, "primary ({host})"),
            (Role::Primary, None) => f.write_str("primary"),
            (Role::Replica, Some(host)) => write!(f, "replica of {host}"),
            (Role::Replica, None) => f.write_str("replica without a primary"),
            (Role::Unknown, _) => f.write_str("unknown"),
        }
    }
}

/// Longest hostname accepted (DNS allows 253; a little slack for odd `lease.hostname` values).
const MAX_HOSTNAME_LEN: usize = 255;

/// Checks a hostname reported by LiteFS: surrounding whitespace is trimmed; an empty name, one
/// with whitespace or control characters inside, or an overlong one is rejected (`None`).
pub(crate) fn parse_hostname(raw: &str) -> Option<String> {
    let host = raw.trim();
    let valid = !host.is_empty()
        && host.len() <= MAX_HOSTNAME_LEN
        && !host.chars().any(|c| c.is_whitespace() || c.is_control());
    valid.then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_are_trimmed_and_checked() {
        assert_eq!(parse_hostname("node-2\n").as_deref(), Some("node-2"));
        assert_eq!(
            parse_hostname("  a.example.com \r\n").as_deref(),
            Some("a.example.com")
        );
        assert_eq!(parse_hostname(""), None);
        assert_eq!(parse_hostname(" \n"), None);
        assert_eq!(parse_hostname("node 2"), None);
        assert_eq!(parse_hostname("node\u{0}2"), None);
        assert_eq!(parse_hostname("node-2\nnode-3"), None);
        assert_eq!(parse_hostname(&"a".repeat(256)), None);
    }

    #[test]
    fn a_replica_without_a_primary_has_nowhere_to_send_writes() {
        assert!(PrimaryState::primary(None).primary_known());
        assert!(!PrimaryState::replica(None).primary_known());
        assert!(!PrimaryState::unknown().primary_known());
        assert_eq!(
            PrimaryState::replica(Some("n2".into())).forward_to(),
            Some("n2")
        );
        assert_eq!(PrimaryState::primary(Some("n1".into())).forward_to(), None);
    }

    #[test]
    fn states_read_well_in_logs() {
        assert_eq!(PrimaryState::unknown().to_string(), "unknown");
        assert_eq!(
            PrimaryState::replica(Some("node-2".into())).to_string(),
            "replica of node-2"
        );
        assert_eq!(
            PrimaryState::primary(Some("node-1".into())).to_string(),
            "primary (node-1)"
        );
    }
}
