//! Replication lag: as LiteFS reports it in the `.lag` file of its mount, or as another
//! backend samples it from its database ([`SampledLag`]; PostgreSQL's
//! `repo_postgres::Postgres`).
//!
//! LiteFS writes `.lag` as `"%+010d\n"` milliseconds since this node last heard from the
//! primary (`+000000123`; `+000000000` on the primary), and `+2147483647` until the initial
//! replication has finished. The LiteFS emulator of `repo-litefs` writes `.lag` in the same
//! format in each node's directory, which the local cluster passes as the mount directory.
//!
//! ```
//! use repo_litefs::lag::{ReplicationLag, parse_lag};
//!
//! assert_eq!(parse_lag("+000000123\n"), Ok(ReplicationLag::Millis(123)));
//! assert_eq!(parse_lag("+2147483647\n"), Ok(ReplicationLag::Initializing));
//! assert!(parse_lag("123").is_err());
//! ```

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// The name of LiteFS's lag file in its mount directory.
pub const LAG_FILE: &str = ".lag";

/// What LiteFS writes until the initial replication has finished (`math.MaxInt32`).
const NOT_SYNCED: i64 = i32::MAX as i64;

/// How far behind the primary this node is, or why that is not known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicationLag {
    /// Milliseconds since the last data or heartbeat from the primary (about 1000 when idle,
    /// 0 on the primary; negative if this node's clock is behind the primary's).
    Millis(i64),
    /// LiteFS has not finished the initial replication.
    Initializing,
    /// The node has no LiteFS mount directory configured.
    NoMountDir,
    /// The mount directory is configured but `.lag` could not be read.
    Unreadable,
    /// `.lag` did not hold LiteFS's format.
    Invalid,
    /// The backend samples the lag from its database and has not read it yet.
    NotSampled,
    /// The backend's last read of the lag from its database failed.
    DatabaseUnreadable,
    /// A standby that has replayed no transaction since it started: the time of the last
    /// replayed one, which the lag is measured from, is unknown.
    NothingReplayed,
}

impl ReplicationLag {
    /// The lag in milliseconds, when known.
    pub fn millis(self) -> Option<i64> {
        match self {
            ReplicationLag::Millis(ms) => Some(ms),
            ReplicationLag::Initializing
            | ReplicationLag::NoMountDir
            | ReplicationLag::Unreadable
            | ReplicationLag::Invalid
            | ReplicationLag::NotSampled
            | ReplicationLag::DatabaseUnreadable
            | ReplicationLag::NothingReplayed => None,
        }
    }

    /// A stable label for `/health`: `reported`, `initializing`, `no_mount_dir`,
    /// `unreadable`, `invalid`, `not_sampled`, `database_unreadable` or
    /// `nothing_replayed`.
    pub fn label(self) -> &'static str {
        match self {
            ReplicationLag::Millis(_) => "reported",
            ReplicationLag::Initializing => "initializing",
            ReplicationLag::NoMountDir => "no_mount_dir",
            ReplicationLag::Unreadable => "unreadable",
            ReplicationLag::Invalid => "invalid",
            ReplicationLag::NotSampled => "not_sampled",
            ReplicationLag::DatabaseUnreadable => "database_unreadable",
            ReplicationLag::NothingReplayed => "nothing_replayed",
        }
    }

    /// Why the lag is unknown, in words for an operator; `None` when it is known.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            ReplicationLag::Millis(_) => None,
            ReplicationLag::Initializing => {
                Some("LiteFS has not finished the initial replication from the primary")
            }
            ReplicationLag::NoMountDir => {
                Some("no LiteFS mount directory is configured (--litefs-dir)")
            }
            ReplicationLag::Unreadable => Some("the .lag file in the LiteFS mount cannot be read"),
            ReplicationLag::Invalid => Some("the .lag file does not hold LiteFS's format"),
            ReplicationLag::NotSampled => Some("the lag has not been read from the database yet"),
            ReplicationLag::DatabaseUnreadable => {
                Some("the database did not answer the lag query (see the node's log)")
            }
            ReplicationLag::NothingReplayed => {
                Some("the standby has replayed no transaction since it started")
            }
        }
    }
}

/// A lag a backend reads from its database in the background and a health check reads
/// from memory (no I/O): cheap to clone, all clones share one value.
#[derive(Debug, Clone)]
pub struct SampledLag(Arc<Mutex<ReplicationLag>>);

impl Default for SampledLag {
    fn default() -> Self {
        Self(Arc::new(Mutex::new(ReplicationLag::NotSampled)))
    }
}

impl SampledLag {
    /// The last lag read ([`ReplicationLag::NotSampled`] before the first).
    pub fn get(&self) -> ReplicationLag {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a new reading.
    pub fn set(&self, lag: ReplicationLag) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = lag;
    }
}

/// Why `.lag`'s content was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LagParseError {
    /// The content does not end with the newline LiteFS writes.
    #[error("the lag does not end with a newline")]
    NoNewline,
    /// The number has no leading `+` or `-` (LiteFS always writes the sign).
    #[error("the lag has no sign")]
    NoSign,
    /// Fewer than 9 digits after the sign (LiteFS pads the whole to 10 characters).
    #[error("the lag is not zero-padded to 10 characters")]
    NotPadded,
    /// Something other than ASCII digits after the sign.
    #[error("the lag holds something other than digits")]
    NotDigits,
    /// More digits than fit in 64 bits.
    #[error("the lag is out of range")]
    OutOfRange,
}

/// Parses the content of `.lag` strictly: a sign, at least 9 digits, and a newline.
pub fn parse_lag(content: &str) -> Result<ReplicationLag, LagParseError> {
    let line = content.strip_suffix('\n').ok_or(LagParseError::NoNewline)?;
    let (negative, digits) = match line.as_bytes().first() {
        Some(b'+') => (false, &line[1..]),
        Some(b'-') => (true, &line[1..]),
        _ => return Err(LagParseError::NoSign),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(LagParseError::NotDigits);
    }
    if digits.len() < 9 {
        return Err(LagParseError::NotPadded);
    }
    let value: i64 = digits.parse().map_err(|_| LagParseError::OutOfRange)?;
    Ok(match (negative, value) {
        (false, NOT_SYNCED) => ReplicationLag::Initializing,
        (false, ms) => ReplicationLag::Millis(ms),
        (true, ms) => ReplicationLag::Millis(-ms),
    })
}

/// Reads `.lag` in `mount_dir` (LiteFS's `fuse.dir`); [`ReplicationLag::NoMountDir`] when
/// there is none. Never fails: an unreadable or malformed file is reported as such, and
/// logged.
pub fn read_lag(mount_dir: Option<&Path>) -> ReplicationLag {
    let Some(dir) = mount_dir else {
        return ReplicationLag::NoMountDir;
    };
    let path = dir.join(LAG_FILE);
    let content = match std::fs::read_to_string(&path) {
        Ok(content) => content,
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "cannot read LiteFS's lag file");
            return ReplicationLag::Unreadable;
        }
    };
    parse_lag(&content).unwrap_or_else(|e| {
        tracing::warn!(path = %path.display(), error = %e, "LiteFS's lag file has an unexpected format");
        ReplicationLag::Invalid
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_litefs_writes() {
        assert_eq!(parse_lag("+000000000\n"), Ok(ReplicationLag::Millis(0)));
        assert_eq!(parse_lag("+000001042\n"), Ok(ReplicationLag::Millis(1042)));
        assert_eq!(parse_lag("-000000015\n"), Ok(ReplicationLag::Millis(-15)));
        assert_eq!(parse_lag("+2147483647\n"), Ok(ReplicationLag::Initializing));
        assert_eq!(
            parse_lag("+2147483648\n"),
            Ok(ReplicationLag::Millis(2_147_483_648)),
            "a real lag past 24 days is still a lag"
        );
    }

    #[test]
    fn refuses_anything_else() {
        assert_eq!(parse_lag("+000000123"), Err(LagParseError::NoNewline));
        assert_eq!(parse_lag("0000000123\n"), Err(LagParseError::NoSign));
        assert_eq!(parse_lag("\n"), Err(LagParseError::NoSign));
        assert_eq!(parse_lag(""), Err(LagParseError::NoNewline));
        assert_eq!(parse_lag("+123\n"), Err(LagParseError::NotPadded));
        assert_eq!(parse_lag("+\n"), Err(LagParseError::NotPadded));
        assert_eq!(parse_lag("+0000001x3\n"), Err(LagParseError::NotDigits));
        assert_eq!(parse_lag("+000000123\n\n"), Err(LagParseError::NotDigits));
        assert_eq!(parse_lag(" +000000123\n"), Err(LagParseError::NoSign));
        assert_eq!(parse_lag("+-00000123\n"), Err(LagParseError::NotDigits));
        assert_eq!(
            parse_lag("+99999999999999999999\n"),
            Err(LagParseError::OutOfRange)
        );
    }

    #[test]
    fn reads_the_file_in_the_mount() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(read_lag(None), ReplicationLag::NoMountDir);
        assert_eq!(read_lag(Some(dir.path())), ReplicationLag::Unreadable);
        std::fs::write(dir.path().join(LAG_FILE), "+000000250\n").expect("write");
        assert_eq!(read_lag(Some(dir.path())), ReplicationLag::Millis(250));
        std::fs::write(dir.path().join(LAG_FILE), "soon\n").expect("write");
        assert_eq!(read_lag(Some(dir.path())), ReplicationLag::Invalid);
    }

    #[test]
    fn only_a_known_lag_has_millis_and_no_reason() {
        assert_eq!(ReplicationLag::Millis(5).millis(), Some(5));
        assert_eq!(ReplicationLag::Millis(5).reason(), None);
        for unknown in [
            ReplicationLag::Initializing,
            ReplicationLag::NoMountDir,
            ReplicationLag::Unreadable,
            ReplicationLag::Invalid,
        ] {
            assert_eq!(unknown.millis(), None);
            assert!(unknown.reason().is_some(), "{unknown:?}");
        }
    }
}
