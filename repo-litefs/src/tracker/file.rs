//! Polling LiteFS's `.primary` file, for setups without the HTTP API.
//!
//! `.primary` holds the primary's hostname and a `\n`, and exists only on a replica that is
//! connected to the primary. Its absence is ambiguous: this node may be the primary, or a
//! replica between primaries (reconnect delay, failover). So an absent file means
//! [`Role::Unknown`](super::Role::Unknown), never primary; only the HTTP API can say "primary".

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use super::publish::Publisher;
use super::state::{PrimaryState, parse_hostname};

/// The file's name in the FUSE mount.
pub(crate) const PRIMARY_FILE: &str = ".primary";

/// Shortest polling interval (`tokio::time::interval` refuses zero).
const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// Longest content read as a hostname.
const MAX_CONTENT: usize = 1024;

/// What one read of `.primary` found.
#[derive(Debug)]
pub(crate) enum Reading {
    /// A valid hostname: this node is a replica of it.
    Primary(String),
    /// No file: this node is the primary or a replica without a primary; nobody can tell.
    Absent,
    /// A file whose content is not a hostname.
    Invalid(String),
    /// The file could not be read.
    Unreadable(io::Error),
}

impl Reading {
    /// The state this reading means.
    pub(crate) fn to_state(&self) -> PrimaryState {
        match self {
            Reading::Primary(host) => PrimaryState::replica(Some(host.clone())),
            Reading::Absent | Reading::Invalid(_) | Reading::Unreadable(_) => {
                PrimaryState::unknown()
            }
        }
    }

    /// A description of what is wrong, for a warning; `None` when nothing is.
    fn problem(&self) -> Option<String> {
        match self {
            Reading::Primary(_) | Reading::Absent => None,
            Reading::Invalid(content) => Some(format!("content {content:?} is not a hostname")),
            Reading::Unreadable(err) => Some(format!("cannot read it: {err}")),
        }
    }
}

/// Classifies the bytes of `.primary`.
pub(crate) fn parse_primary_file(bytes: &[u8]) -> Reading {
    let shown = || String::from_utf8_lossy(&bytes[..bytes.len().min(64)]).into_owned();
    if bytes.len() > MAX_CONTENT {
        return Reading::Invalid(shown());
    }
    match std::str::from_utf8(bytes).ok().and_then(parse_hostname) {
        Some(host) => Reading::Primary(host),
        None => Reading::Invalid(shown()),
    }
}

/// Reads `.primary` at `path` once.
pub(crate) async fn read_primary_file(path: &Path) -> Reading {
    match tokio::fs::read(path).await {
        Ok(bytes) => parse_primary_file(&bytes),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Reading::Absent,
        Err(err) => Reading::Unreadable(err),
    }
}

/// Reads `<mount_dir>/.primary` every `interval` forever, publishing what it means. A problem
/// (bad content, unreadable file) is warned about once, not on every poll.
pub(crate) async fn poll(mount_dir: PathBuf, interval: Duration, publisher: Publisher) {
    let path = mount_dir.join(PRIMARY_FILE);
    let mut ticker = tokio::time::interval(interval.max(MIN_INTERVAL));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_problem = None;
    loop {
        ticker.tick().await;
        let reading = read_primary_file(&path).await;
        let problem = reading.problem();
        if let Some(problem) = &problem
            && last_problem.as_ref() != Some(problem)
        {
            tracing::warn!(path = %path.display(), "LiteFS {PRIMARY_FILE}: {problem}; the role is unknown");
        }
        last_problem = problem;
        publisher.publish(reading.to_state());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostname_line_means_replica_of_it() {
        assert_eq!(
            parse_primary_file(b"node-2\n").to_state(),
            PrimaryState::replica(Some("node-2".into()))
        );
        assert_eq!(
            parse_primary_file(b"  primary.example.com\r\n").to_state(),
            PrimaryState::replica(Some("primary.example.com".into()))
        );
    }

    #[test]
    fn anything_else_means_unknown_never_primary() {
        for bytes in [
            &b""[..],
            b"\n",
            b"node 2\n",
            b"node-2\nnode-3\n",
            b"\xff\xfe\n",
            b"no\x07de\n",
        ] {
            let reading = parse_primary_file(bytes);
            assert!(matches!(reading, Reading::Invalid(_)), "{bytes:?}");
            assert_eq!(reading.to_state(), PrimaryState::unknown());
        }
        assert!(matches!(
            parse_primary_file(&vec![b'a'; MAX_CONTENT + 1]),
            Reading::Invalid(_)
        ));
        assert_eq!(Reading::Absent.to_state(), PrimaryState::unknown());
    }
}
