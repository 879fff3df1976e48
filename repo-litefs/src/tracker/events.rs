//! One line of LiteFS's `GET /events`, read leniently, and what it means for [`PrimaryState`].
//!
//! Unknown fields and event types are ignored, so a newer LiteFS does not break the tracker; a
//! line that is not an event at all is an [`EventError`], never a panic.

use serde::Deserialize;
use serde_json::Value;

use super::state::{PrimaryState, parse_hostname};

/// One event from `GET /events` (`{"type": ..., "db": ..., "data": {...}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// First event of every connection: the node's role at that moment.
    Init(RoleReport),
    /// The node's role or its primary changed.
    PrimaryChange(RoleReport),
    /// A transaction committed to `db`. The tracker does not use it.
    Tx {
        /// The database's name, when given.
        db: Option<String>,
    },
    /// A type this code does not know (a newer LiteFS); ignored.
    Other {
        /// The event's `type`.
        kind: String,
    },
}

impl Event {
    /// The event's kind as the `type` label of `litefs_events_total`: `init`,
    /// `primaryChange`, `tx` or `other`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Event::Init(_) => "init",
            Event::PrimaryChange(_) => "primaryChange",
            Event::Tx { .. } => "tx",
            Event::Other { .. } => "other",
        }
    }
}

/// The `data` of `init` and `primaryChange`: `{"isPrimary": bool, "hostname": "node-2"}`.
///
/// LiteFS omits `hostname` when it knows no primary, and may omit it on the primary itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct RoleReport {
    /// Whether this node holds the primary lease.
    #[serde(rename = "isPrimary")]
    pub(crate) is_primary: bool,
    /// The primary's hostname, as reported (not yet checked).
    #[serde(default)]
    pub(crate) hostname: Option<String>,
}

/// Why an `/events` line was skipped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventError {
    /// Not a JSON object with a string `type`.
    #[error("not a LiteFS event: {0}")]
    Json(#[source] serde_json::Error),
    /// An `init` or `primaryChange` event without `data`.
    #[error("{kind} event has no data")]
    MissingData {
        /// The event's `type`.
        kind: &'static str,
    },
    /// An `init` or `primaryChange` event whose `data` lacks a boolean `isPrimary`.
    #[error("{kind} event has invalid data: {source}")]
    BadData {
        /// The event's `type`.
        kind: &'static str,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// The envelope shared by every event; `data` is read once `type` is known.
#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    db: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

/// Parses one non-empty `/events` line.
pub(crate) fn parse_event(line: &str) -> Result<Event, EventError> {
    let raw: RawEvent = serde_json::from_str(line).map_err(EventError::Json)?;
    let report = |kind: &'static str, data: Option<Value>| match data {
        None | Some(Value::Null) => Err(EventError::MissingData { kind }),
        Some(data) => {
            serde_json::from_value(data).map_err(|source| EventError::BadData { kind, source })
        }
    };
    Ok(match raw.kind.as_str() {
        "init" => Event::Init(report("init", raw.data)?),
        "primaryChange" => Event::PrimaryChange(report("primaryChange", raw.data)?),
        "tx" => Event::Tx {
            db: raw.db.and_then(|db| db.as_str().map(str::to_owned)),
        },
        _ => Event::Other { kind: raw.kind },
    })
}

impl RoleReport {
    /// The reported hostname if it is a valid one.
    pub(crate) fn hostname(&self) -> Option<String> {
        checked_hostname(self.hostname.as_deref())
    }

    /// The state this report means. `own` names this node when it is the primary and the report
    /// does not say its name.
    pub(crate) fn to_state(&self, own: Option<&str>) -> PrimaryState {
        role_state(self.is_primary, self.hostname(), own)
    }
}

pub(super) fn role_state(
    is_primary: bool,
    hostname: Option<String>,
    own: Option<&str>,
) -> PrimaryState {
    if is_primary {
        PrimaryState::primary(hostname.or_else(|| own.map(str::to_owned)))
    } else {
        PrimaryState::replica(hostname)
    }
}

/// `None` for an absent or empty hostname; an invalid one is also `None`, with a warning.
pub(super) fn checked_hostname(raw: Option<&str>) -> Option<String> {
    let raw = raw.filter(|raw| !raw.is_empty())?;
    let host = parse_hostname(raw);
    if host.is_none() {
        tracing::warn!(hostname = ?raw, "LiteFS reported an invalid primary hostname; ignoring it");
    }
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(is_primary: bool, hostname: Option<&str>) -> RoleReport {
        RoleReport {
            is_primary,
            hostname: hostname.map(str::to_owned),
        }
    }

    #[test]
    fn init_and_primary_change_carry_the_role() {
        let init = parse_event(r#"{"type":"init","data":{"isPrimary":true,"hostname":"node-1"}}"#);
        assert_eq!(init.ok(), Some(Event::Init(report(true, Some("node-1")))));
        let change = parse_event(
            r#"{"type":"primaryChange","data":{"isPrimary":false,"hostname":"node-2"}}"#,
        );
        assert_eq!(
            change.ok(),
            Some(Event::PrimaryChange(report(false, Some("node-2"))))
        );
        // LiteFS omits the hostname (omitempty) when no primary is known.
        let lost = parse_event(r#"{"type":"primaryChange","data":{"isPrimary":false}}"#);
        assert_eq!(lost.ok(), Some(Event::PrimaryChange(report(false, None))));
    }

    #[test]
    fn tx_and_unknown_events_parse_and_mean_nothing() {
        let tx = r#"{"type":"tx","db":"my.db","data":{"txID":"0000000000000027","postApplyChecksum":"83b05248774ce767","pageSize":4096,"commit":2,"timestamp":"2024-01-01T00:00:00Z"}}"#;
        assert_eq!(
            parse_event(tx).ok(),
            Some(Event::Tx {
                db: Some("my.db".into())
            })
        );
        let future = r#"{"type":"halt","db":"x","data":{"anything":[1,2,3]},"extra":true}"#;
        assert_eq!(
            parse_event(future).ok(),
            Some(Event::Other {
                kind: "halt".into()
            })
        );
    }

    #[test]
    fn malformed_lines_are_errors_not_panics() {
        for line in [
            "garbage",
            "{",
            "[]",
            "null",
            r#"{"data":{"isPrimary":true}}"#,
            r#"{"type":7}"#,
        ] {
            assert!(
                matches!(parse_event(line), Err(EventError::Json(_))),
                "{line}"
            );
        }
        assert!(matches!(
            parse_event(r#"{"type":"init"}"#),
            Err(EventError::MissingData { kind: "init" })
        ));
        assert!(matches!(
            parse_event(r#"{"type":"primaryChange","data":{"hostname":"n2"}}"#),
            Err(EventError::BadData {
                kind: "primaryChange",
                ..
            })
        ));
        assert!(matches!(
            parse_event(r#"{"type":"init","data":{"isPrimary":"yes"}}"#),
            Err(EventError::BadData { .. })
        ));
    }

    #[test]
    fn reports_become_states() {
        let own = Some("me");
        assert_eq!(
            report(true, Some("node-1")).to_state(own),
            PrimaryState::primary(Some("node-1".into()))
        );
        assert_eq!(
            report(true, None).to_state(own),
            PrimaryState::primary(Some("me".into()))
        );
        assert_eq!(
            report(true, None).to_state(None),
            PrimaryState::primary(None)
        );
        assert_eq!(
            report(false, Some("node-2")).to_state(own),
            PrimaryState::replica(Some("node-2".into()))
        );
        assert_eq!(
            report(false, Some("")).to_state(own),
            PrimaryState::replica(None)
        );
        assert_eq!(
            report(false, Some("bad host")).to_state(own),
            PrimaryState::replica(None)
        );
    }
}
