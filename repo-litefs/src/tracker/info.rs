//! LiteFS's `GET /info` document, read leniently, and what it means for [`PrimaryState`].
//!
//! Every field may be missing and unknown fields are ignored; only a wrong type or a body that
//! is not JSON is an error.

use serde::Deserialize;

use super::events::{checked_hostname, role_state};
use super::state::PrimaryState;

/// `GET /info`: `{clusterID, isPrimary, candidate, path, primary: {hostname}}`, every field
/// optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct Info {
    /// The cluster's ID (logged only).
    #[serde(rename = "clusterID", default)]
    pub(crate) cluster_id: Option<String>,
    /// Whether this node is the primary; without it the role is unknown.
    #[serde(rename = "isPrimary", default)]
    pub(crate) is_primary: Option<bool>,
    /// Whether this node may become primary (logged only).
    #[serde(default)]
    pub(crate) candidate: Option<bool>,
    /// LiteFS's data path (logged only).
    #[serde(default)]
    pub(crate) path: Option<String>,
    /// The current primary; on the primary, itself.
    #[serde(default)]
    pub(crate) primary: Option<InfoPrimary>,
}

/// `primary` of `/info`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct InfoPrimary {
    /// The primary's hostname; empty or absent when none is known.
    #[serde(default)]
    pub(crate) hostname: Option<String>,
}

/// Parses the body of `GET /info`.
pub(crate) fn parse_info(body: &[u8]) -> Result<Info, serde_json::Error> {
    serde_json::from_slice(body)
}

impl Info {
    /// The primary's hostname if reported and valid.
    pub(crate) fn hostname(&self) -> Option<String> {
        checked_hostname(self.primary.as_ref().and_then(|p| p.hostname.as_deref()))
    }

    /// This node's own hostname, when `/info` says it is the primary and names it.
    pub(crate) fn own_hostname(&self) -> Option<String> {
        if self.is_primary == Some(true) {
            self.hostname()
        } else {
            None
        }
    }

    /// The state this document means; without `isPrimary` it is [`PrimaryState::unknown`].
    pub(crate) fn to_state(&self, own: Option<&str>) -> PrimaryState {
        match self.is_primary {
            Some(is_primary) => role_state(is_primary, self.hostname(), own),
            None => PrimaryState::unknown(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_is_read_leniently() {
        let full = br#"{
          "clusterID": "LFSC0123456789ABCDEF",
          "isPrimary": false,
          "candidate": true,
          "path": "/var/lib/litefs",
          "primary": {"hostname": "node-2"},
          "someNewField": {"x": 1}
        }"#;
        let info = parse_info(full).expect("full /info");
        assert_eq!(
            info.to_state(None),
            PrimaryState::replica(Some("node-2".into()))
        );
        assert_eq!(info.own_hostname(), None);
        assert_eq!(info.cluster_id.as_deref(), Some("LFSC0123456789ABCDEF"));

        let primary = parse_info(br#"{"isPrimary":true,"primary":{"hostname":"node-1"}}"#)
            .expect("primary /info");
        assert_eq!(primary.own_hostname().as_deref(), Some("node-1"));
        assert_eq!(
            primary.to_state(Some("ignored")),
            PrimaryState::primary(Some("node-1".into()))
        );

        let lost = parse_info(br#"{"isPrimary":false,"primary":{"hostname":""}}"#).expect("lost");
        assert_eq!(lost.to_state(None), PrimaryState::replica(None));

        let empty = parse_info(b"{}").expect("empty object");
        assert_eq!(empty.to_state(Some("me")), PrimaryState::unknown());
        let nulls = parse_info(br#"{"isPrimary":null,"primary":null}"#).expect("nulls");
        assert_eq!(nulls.to_state(None), PrimaryState::unknown());

        assert!(parse_info(b"<html>").is_err());
        assert!(parse_info(br#"{"isPrimary":"no"}"#).is_err());
    }
}
