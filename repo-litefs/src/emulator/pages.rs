//! Page-level replication of a SQLite file, under SQLite's own locks.
//!
//! [`Snapshot`] reads the primary's file while a connection holds a read transaction on it
//! (SQLite's SHARED lock: in rollback-journal mode no commit can touch the file meanwhile,
//! so the bytes are one committed state) and keeps which pages each read found changed.
//! [`Replica`] writes into a replica's file, while its connection holds SQLite's EXCLUSIVE
//! lock (no reader is inside the file; the next one sees the whole new state), only the
//! pages changed since the state it holds, then truncates it to the primary's size. Page 1
//! gets a file change counter one above the replica's previous one, so that every reader's
//! page cache and schema are invalidated even when a failover makes the replica follow a
//! primary whose counter is lower.
//!
//! Whatever the schema (foreign keys, triggers, views, `WITHOUT ROWID`, any column type):
//! pages are bytes. Rollback-journal databases only: a primary in WAL mode is refused with
//! [`CopyError::Wal`] (its committed state is partly in the `-wal` file).

use std::collections::{BTreeSet, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions};

/// How many reads' changed pages are kept: a replica further behind is compared whole.
const HISTORY: usize = 256;

/// Where the next snapshot's generations start: generations are unique in the process, so
/// a replica's mark from another primary's snapshot can never be mistaken for this one's.
static NEXT_BASE: AtomicU64 = AtomicU64::new(1);

/// How much of a file is read at once.
const CHUNK_PAGES: usize = 64;

/// Up to how many bytes a read of the primary or a write of listed pages is done on the
/// replication loop's own thread (well under a millisecond) rather than handed to a
/// blocking thread and back (two thread wake-ups, which on a busy machine cost more).
const INLINE_BYTES: u64 = 1 << 20;

/// Why a copy failed; the replication loop logs it and tries again.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CopyError {
    /// SQLite refused a lock or a connection.
    #[error("emulated replication: database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A file could not be read or written.
    #[error("emulated replication: file error: {0}")]
    Io(#[from] std::io::Error),
    /// The primary's database is in WAL mode.
    #[error(
        "emulated replication copies rollback-journal databases only; the primary is in WAL mode"
    )]
    Wal,
    /// The blocking file work did not finish (the runtime is shutting down).
    #[error("emulated replication: the file task was cancelled")]
    Cancelled,
}

/// A connection to `path` (`mode`: `ro` or `rw`), used only to take SQLite's locks.
pub(crate) async fn lock_connection(
    path: &Path,
    mode: &str,
) -> Result<SqliteConnection, sqlx::Error> {
    let url = format!("sqlite://{}?mode={mode}", path.display());
    let options: SqliteConnectOptions = url.parse()?;
    options.connect().await
}

/// The primary's content as of its last read (see the module docs).
#[derive(Debug)]
pub(crate) struct Snapshot {
    /// The primary's file.
    path: PathBuf,
    /// Holds the read transaction while the file is read.
    conn: SqliteConnection,
    /// The file's bytes at the last read; shared with the copies under way.
    bytes: Arc<Vec<u8>>,
    /// The page size the bytes were compared with.
    page_size: usize,
    /// Grows by one per read that found a change.
    generation: u64,
    /// `(generation, pages changed since generation - 1)`, oldest first.
    history: VecDeque<(u64, Vec<u32>)>,
}

impl Snapshot {
    /// A snapshot of the file at `path`, not read yet.
    pub(crate) async fn open(path: &Path) -> Result<Self, CopyError> {
        Ok(Self {
            path: path.to_owned(),
            conn: lock_connection(path, "ro").await?,
            bytes: Arc::new(Vec::new()),
            page_size: 4096,
            generation: NEXT_BASE.fetch_add(1 << 32, Ordering::Relaxed),
            history: VecDeque::new(),
        })
    }

    /// Reads the primary's file in one committed state; returns whether it changed.
    pub(crate) async fn refresh(&mut self) -> Result<bool, CopyError> {
        // The read transaction and its SHARED lock (held from the read on, until `COMMIT`)
        // in one hand-off to SQLite's thread: each hand-off is a thread wake-up, which is
        // what a round's latency is made of on a busy machine.
        if let Err(e) = sqlx::raw_sql("BEGIN; SELECT count(*) FROM sqlite_master")
            .execute(&mut self.conn)
            .await
        {
            let _ = sqlx::query("ROLLBACK").execute(&mut self.conn).await;
            return Err(e.into());
        }
        let read = self.read_locked().await;
        sqlx::query("COMMIT").execute(&mut self.conn).await?;
        let (bytes, page_size, changed) = read?;
        let resized = page_size != self.page_size;
        self.bytes = bytes;
        self.page_size = page_size;
        if resized {
            // Another page size: every replica is compared whole.
            self.history.clear();
            self.generation += 2;
            return Ok(true);
        }
        let Some(changed) = changed else {
            return Ok(false);
        };
        self.generation += 1;
        self.history.push_back((self.generation, changed));
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        Ok(true)
    }

    /// Reads the file (the read transaction holds the SHARED lock): a small file at once
    /// (tens of microseconds), a larger one on a blocking thread.
    async fn read_locked(&mut self) -> Result<(Arc<Vec<u8>>, usize, Option<Vec<u32>>), CopyError> {
        let mut bytes = std::mem::take(&mut self.bytes);
        let path = self.path.clone();
        let page_size = self.page_size;
        let read = move || {
            let diff = read_changes(&path, Arc::make_mut(&mut bytes), page_size)?;
            Ok((bytes, diff.0, diff.1))
        };
        let small = std::fs::metadata(&self.path).is_ok_and(|m| m.len() <= INLINE_BYTES);
        if small {
            return read();
        }
        tokio::task::spawn_blocking(read)
            .await
            .map_err(|_| CopyError::Cancelled)?
    }

    /// The pages changed after `since`, or `None` when a replica at `since` must be
    /// compared whole (unknown, or older than the history).
    fn changed_since(&self, since: Option<u64>) -> Option<BTreeSet<u32>> {
        let since = since?;
        if since == self.generation {
            return Some(BTreeSet::new());
        }
        let oldest = self.history.front()?.0;
        if since + 1 < oldest || since > self.generation {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|(g, _)| *g > since)
                .flat_map(|(_, pages)| pages.iter().copied())
                .collect(),
        )
    }
}

/// Reads `path` into `bytes`, comparing page by page; returns the page size found and the
/// changed pages (`None`: nothing changed).
fn read_changes(
    path: &Path,
    bytes: &mut Vec<u8>,
    page_size: usize,
) -> Result<(usize, Option<Vec<u32>>), CopyError> {
    let mut file = File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
    let mut header = [0u8; 100];
    let found = if len >= header.len() {
        file.read_exact(&mut header)?;
        if header[18] == 2 || header[19] == 2 {
            return Err(CopyError::Wal);
        }
        match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            _ => page_size,
        }
    } else {
        page_size
    };
    if found != page_size {
        bytes.clear();
    }
    let old_len = bytes.len();
    bytes.resize(len, 0);
    file.seek(SeekFrom::Start(0))?;
    let mut scratch = vec![0u8; found * CHUNK_PAGES];
    let mut changed = Vec::new();
    let mut offset = 0;
    while offset < len {
        let n = scratch.len().min(len - offset);
        file.read_exact(&mut scratch[..n])?;
        for start in (0..n).step_by(found) {
            let end = (start + found).min(n);
            let at = offset + start;
            let current = &mut bytes[at..at + (end - start)];
            if at >= old_len || current != &scratch[start..end] {
                current.copy_from_slice(&scratch[start..end]);
                changed.push(u32::try_from(at / found).map_err(std::io::Error::other)?);
            }
        }
        offset += n;
    }
    let changed = (!changed.is_empty() || old_len != len).then_some(changed);
    Ok((found, changed))
}

/// A replica's file and what it holds (see the module docs).
#[derive(Debug)]
pub(crate) struct Replica {
    /// The replica's file.
    path: PathBuf,
    /// Takes SQLite's EXCLUSIVE lock while pages are written.
    conn: SqliteConnection,
    /// The snapshot generation the file holds; `None`: unknown, compare it whole.
    holds: Option<u64>,
}

impl Replica {
    /// The replica whose file is `path`; what it holds is unknown until the first copy.
    pub(crate) async fn open(path: &Path) -> Result<Self, CopyError> {
        Ok(Self {
            path: path.to_owned(),
            conn: lock_connection(path, "rw").await?,
            holds: None,
        })
    }

    /// Forgets what the file holds: the next copy compares it whole (someone else may have
    /// written it, e.g. while it was a primary).
    pub(crate) fn forget(&mut self) {
        self.holds = None;
    }

    /// The snapshot generation the file holds, if known.
    pub(crate) fn held(&self) -> Option<u64> {
        self.holds
    }

    /// Whether the file already holds `snapshot`.
    pub(crate) fn holds(&self, snapshot: &Snapshot) -> bool {
        self.holds == Some(snapshot.generation)
    }

    /// Brings the file to `snapshot`'s state, atomically for its readers, unless
    /// `still_wanted` (asked under the lock) says the copy is no longer wanted; returns
    /// whether it copied.
    pub(crate) async fn copy(
        &mut self,
        snapshot: &Snapshot,
        still_wanted: impl FnOnce() -> bool,
    ) -> Result<bool, CopyError> {
        if self.holds(snapshot) {
            return Ok(true);
        }
        let pages = snapshot.changed_since(self.holds);
        let empty = std::fs::metadata(&self.path).map_or(true, |m| m.len() == 0);
        if empty {
            // A write transaction on an empty file makes SQLite write a fresh page 1 at its
            // commit, over the copied one: let it do so now, on the empty file.
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut self.conn)
                .await?;
            sqlx::query("COMMIT").execute(&mut self.conn).await?;
        }
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut self.conn)
            .await?;
        let written = if still_wanted() {
            let (path, bytes, page_size) = (
                self.path.clone(),
                snapshot.bytes.clone(),
                snapshot.page_size,
            );
            let few = pages
                .as_ref()
                .is_some_and(|p| p.len() * page_size <= INLINE_BYTES as usize);
            if few {
                write_pages(&path, &bytes, page_size, pages).map(Some)
            } else {
                tokio::task::spawn_blocking(move || write_pages(&path, &bytes, page_size, pages))
                    .await
                    .map_err(|_| CopyError::Cancelled)
                    .and_then(|r| r)
                    .map(Some)
            }
        } else {
            Ok(None)
        };
        sqlx::query("COMMIT").execute(&mut self.conn).await?;
        // Closed only now that the lock is released: a watcher woken by the file's close
        // (`FileEvents`) reads the new state without waiting for the lock.
        let written = written.map(|file| file.is_some());
        match written {
            Ok(true) => {
                self.holds = Some(snapshot.generation);
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => {
                self.holds = None;
                Err(e)
            }
        }
    }
}

/// Writes into `path` the pages of `bytes` listed in `pages` (all that differ when `None`),
/// page 1 with a fresh change counter, and truncates the file to `bytes`' length; returns
/// the file, still open (see [`Replica::copy`]).
fn write_pages(
    path: &Path,
    bytes: &[u8],
    page_size: usize,
    pages: Option<BTreeSet<u32>>,
) -> Result<File, CopyError> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let mut header = [0u8; 100];
    let old_len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
    let old_counter = if old_len >= header.len() {
        file.read_exact(&mut header)?;
        u32::from_be_bytes([header[24], header[25], header[26], header[27]])
    } else {
        0
    };
    let page_count = bytes.len().div_ceil(page_size);
    let pages: Vec<usize> = match pages {
        Some(listed) => listed
            .into_iter()
            .map(|p| p as usize)
            .filter(|p| *p < page_count)
            .collect(),
        None => differing(&mut file, bytes, page_size, old_len)?,
    };
    for page in pages.into_iter().filter(|p| *p != 0) {
        let at = page * page_size;
        let end = (at + page_size).min(bytes.len());
        file.seek(SeekFrom::Start(at as u64))?;
        file.write_all(&bytes[at..end])?;
    }
    if !bytes.is_empty() {
        let mut first = bytes[..page_size.min(bytes.len())].to_vec();
        if first.len() >= header.len() {
            // A counter readers have not seen; the in-header size valid for it.
            let counter = old_counter.wrapping_add(1).to_be_bytes();
            first[24..28].copy_from_slice(&counter);
            first[92..96].copy_from_slice(&counter);
            let pages = u32::try_from(page_count).map_err(std::io::Error::other)?;
            first[28..32].copy_from_slice(&pages.to_be_bytes());
        }
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&first)?;
    }
    file.set_len(bytes.len() as u64)?;
    Ok(file)
}

/// The pages of `bytes` that differ from the file's (pages past its end included).
fn differing(
    file: &mut File,
    bytes: &[u8],
    page_size: usize,
    old_len: usize,
) -> Result<Vec<usize>, CopyError> {
    let mut pages = Vec::new();
    let mut scratch = vec![0u8; page_size * CHUNK_PAGES];
    file.seek(SeekFrom::Start(0))?;
    let mut offset = 0;
    while offset < bytes.len() {
        let n = scratch.len().min(bytes.len() - offset);
        let have = n.min(old_len.saturating_sub(offset));
        file.read_exact(&mut scratch[..have])?;
        for start in (0..n).step_by(page_size) {
            let end = (start + page_size).min(n);
            if end > have || scratch[start..end] != bytes[offset + start..offset + end] {
                pages.push((offset + start) / page_size);
            }
        }
        offset += n;
    }
    Ok(pages)
}
