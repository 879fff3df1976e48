//! `ChangeSignal`: how a node notices, cheaply and without SQL, that its database may have
//! changed (replicated or written by another connection), so that whoever waits for a
//! change queries only then: read-your-writes' watcher, the blog's change feed.

use std::io::Read;
use std::path::PathBuf;
use std::time::SystemTime;

/// What a watcher looks at to learn that a database may have changed.
///
/// ```
/// use repo_litefs::ChangeSignal;
/// let pos = std::env::temp_dir().join(format!("doc-{}.db-pos", std::process::id()));
/// std::fs::write(&pos, "0000000000000001/0000000000000000\n").unwrap();
/// let signal = ChangeSignal::files([&pos]);
/// let before = signal.look();
/// assert!(!signal.look().changed_since(&before));
/// std::fs::write(&pos, "0000000000000002/0000000000000000\n").unwrap();
/// assert!(signal.look().changed_since(&before));
/// # std::fs::remove_file(&pos).unwrap();
/// ```
#[derive(Debug, Clone)]
pub enum ChangeSignal {
    /// Files that change whenever the database does: the SQLite file (its header holds
    /// the file change counter, which every rollback-journal commit and every page
    /// replicated by the emulator changes), its `-wal` (WAL mode), LiteFS's `<db>-pos`
    /// (written after each transaction LiteFS applies). A look reads each one's size,
    /// modification time and first bytes: no SQL, no lock, a few microseconds.
    Files(Vec<PathBuf>),
    /// Nothing to watch (a PostgreSQL standby, a ledger elsewhere): every look counts as a
    /// change, i.e. waiting writes are looked for every millisecond, all at once.
    Ticks,
}

/// What a look saw; two looks that differ mean the database may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fingerprint {
    /// Per watched file: its size, modification time and first bytes (`None`: missing).
    Files(Vec<Option<FileMark>>),
    /// [`ChangeSignal::Ticks`]: never equal to another look.
    Tick,
}

/// One file as a look saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMark {
    /// Its length.
    len: u64,
    /// Its modification time (coarse: the bytes below catch changes within one tick).
    modified: Option<SystemTime>,
    /// Its first [`HEAD`] bytes: a SQLite header (change counter at 24..28), a `-wal`
    /// header (salts), or a whole `<db>-pos`.
    head: Vec<u8>,
}

/// How many bytes of each file a look compares: a SQLite file's whole header.
const HEAD: usize = 100;

impl ChangeSignal {
    /// Watches `files` ([`ChangeSignal::Ticks`] when there are none).
    pub fn files(files: impl IntoIterator<Item = impl Into<PathBuf>>) -> Self {
        let files: Vec<PathBuf> = files.into_iter().map(Into::into).collect();
        if files.is_empty() {
            Self::Ticks
        } else {
            Self::Files(files)
        }
    }

    /// The SQLite database at `db` and its `-wal`: every commit changes one of them (the
    /// header's change counter in rollback-journal mode, the `-wal` in WAL mode).
    pub fn sqlite(db: impl Into<PathBuf>) -> Self {
        let db = db.into();
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        Self::Files(vec![db, wal.into()])
    }

    /// The files watched (none for [`ChangeSignal::Ticks`]).
    pub(crate) fn paths(&self) -> &[PathBuf] {
        match self {
            Self::Files(files) => files,
            Self::Ticks => &[],
        }
    }

    /// Looks at the signal now (blocking file reads of a few bytes, page-cache speed).
    pub fn look(&self) -> Fingerprint {
        match self {
            Self::Files(files) => Fingerprint::Files(files.iter().map(mark).collect()),
            Self::Ticks => Fingerprint::Tick,
        }
    }
}

impl Fingerprint {
    /// Whether `self` (the newer look) may differ from `before`.
    pub fn changed_since(&self, before: &Fingerprint) -> bool {
        match (self, before) {
            (Self::Files(now), Self::Files(then)) => now != then,
            _ => true,
        }
    }
}

/// `path` as a look sees it; `None` when it is missing or unreadable.
fn mark(path: &PathBuf) -> Option<FileMark> {
    let mut file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut file).take(HEAD as u64).read_to_end(&mut head).ok()?;
    Some(FileMark {
        len: meta.len(),
        modified: meta.modified().ok(),
        head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_file_differs_and_an_untouched_one_does_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pos = dir.path().join("db-pos");
        std::fs::write(&pos, "0000000000000001/0000000000000000\n").expect("write");
        let signal = ChangeSignal::Files(vec![pos.clone(), dir.path().join("missing")]);
        let first = signal.look();
        assert!(!signal.look().changed_since(&first), "nothing changed");
        std::fs::write(&pos, "0000000000000002/0000000000000000\n").expect("write");
        assert!(
            signal.look().changed_since(&first),
            "same length, new bytes"
        );
        assert!(
            ChangeSignal::Ticks
                .look()
                .changed_since(&ChangeSignal::Ticks.look())
        );
    }
}
