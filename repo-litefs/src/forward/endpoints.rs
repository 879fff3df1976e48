//! `Endpoints`: from the primary's hostname (what LiteFS reports) to its gRPC address.

use std::collections::HashMap;

use repo_core::{RejectReason, RepoError};

/// How to reach a node's forwarding server from its hostname.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoints {
    /// A URL template with `{hostname}`, e.g. `http://{hostname}:50051`.
    Template(String),
    /// An explicit hostname → URL map (for local clusters and tests).
    Map(HashMap<String, String>),
}

impl Endpoints {
    /// A template such as `http://{hostname}:50051`.
    pub fn template(template: impl Into<String>) -> Self {
        Self::Template(template.into())
    }

    /// An explicit map.
    pub fn map<I, K, V>(entries: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The URL of `hostname`'s forwarding server.
    pub fn resolve(&self, hostname: &str) -> Result<String, RepoError> {
        let valid = !hostname.is_empty()
            && hostname.len() <= 253
            && hostname
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
        let refuse = |message: String| RepoError::Rejected {
            reason: RejectReason::misconfigured(&message),
        };
        if !valid {
            return Err(refuse(format!(
                "LiteFS names the primary {hostname:?}, which is not a hostname \
                 (letters, digits, `-`, `.`, `_`; at most 253)"
            )));
        }
        match self {
            Endpoints::Template(t) => Ok(t.replace("{hostname}", hostname)),
            Endpoints::Map(m) => m.get(hostname).cloned().ok_or_else(|| {
                refuse(format!(
                    "no forwarding endpoint for the primary {hostname:?} in the Endpoints map"
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_templates_and_maps_and_refuses_odd_hostnames() {
        let t = Endpoints::template("http://{hostname}:50051");
        assert_eq!(t.resolve("node-2").ok(), Some("http://node-2:50051".into()));
        assert!(t.resolve("evil/host").is_err());
        assert!(t.resolve("").is_err());
        let m = Endpoints::map([("node-1", "http://127.0.0.1:9000")]);
        assert_eq!(
            m.resolve("node-1").ok(),
            Some("http://127.0.0.1:9000".into())
        );
        assert!(matches!(
            m.resolve("node-9"),
            Err(RepoError::Rejected {
                reason: RejectReason::Misconfigured { .. }
            })
        ));
        let long = t.resolve(&"x".repeat(100_000)).expect_err("too long");
        assert!(long.to_string().len() < 1_000, "bounded");
    }
}
