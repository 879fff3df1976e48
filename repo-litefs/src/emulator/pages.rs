//! Page-level replication of a SQLite file, under SQLite's own locks.
//!
//! [`Snapshot`] reads the primary's file while a connection holds a read transaction on it
//! (SQLite's SHARED lock: in rollback-journal mode no commit can touch the file meanwhile,
//! so the bytes are one committed state): only the pages its commits reported writing since
//! the last read (see [`super::commit_log`]), or the whole file when one is unknown; it
//! keeps which pages each read found changed. [`Replica`] writes into a replica's file,
//! while its connection holds SQLite's EXCLUSIVE lock (no reader is inside the file; the
//! next one sees the whole new state), only the pages changed since the state it holds,
//! then truncates it to the primary's size. Page 1 gets a file change counter one above the
//! replica's previous one, so that every reader's page cache and schema are invalidated
//! even when a failover makes the replica follow a primary whose counter is lower.
//!
//! Whatever the schema (foreign keys, triggers, views, `WITHOUT ROWID`, any column type):
//! pages are bytes. Rollback-journal databases only: a primary in WAL mode is refused with
//! [`CopyError::Wal`] (its committed state is partly in the `-wal` file).

use std::collections::{BTreeSet, VecDeque};
use std::fs::File;
use std::io::{Read as _, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions};

use super::commit_log::Changed;

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
    /// The primary's file, kept open (it is read at every round).
    file: Arc<File>,
    /// Holds the read transaction while the file is read.
    conn: SqliteConnection,
    /// The file's bytes at the last read; shared with the copies under way.
    bytes: Arc<Vec<u8>>,
    /// The page size the bytes were compared with.
    page_size: usize,
    /// Grows by one per read that found a change.
    generation: u64,
    /// The file change counter at the last read.
    counter: Option<u32>,
    /// `(generation, pages changed since generation - 1)`, oldest first.
    history: VecDeque<(u64, Vec<u32>)>,
}

impl Snapshot {
    /// A snapshot of the file at `path`, not read yet.
    pub(crate) async fn open(path: &Path) -> Result<Self, CopyError> {
        Ok(Self {
            file: Arc::new(File::open(path)?),
            conn: lock_connection(path, "ro").await?,
            bytes: Arc::new(Vec::new()),
            page_size: 4096,
            generation: NEXT_BASE.fetch_add(1 << 32, Ordering::Relaxed),
            counter: None,
            history: VecDeque::new(),
        })
    }

    /// Reads the primary's file in one committed state: only the pages that `reported`
    /// lists for the commits between the file change counter of the last read and the
    /// current one, or (when it cannot list them) the whole file.
    pub(crate) async fn refresh(
        &mut self,
        reported: impl FnOnce(u32, u32) -> Option<Changed>,
    ) -> Result<Read, CopyError> {
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
        let read = self.read_locked(reported).await;
        sqlx::query("COMMIT").execute(&mut self.conn).await?;
        let Loaded {
            bytes,
            header: found,
            changed,
            kind,
        } = read?;
        self.counter = found.counter;
        let resized = found.page_size != self.page_size;
        self.bytes = bytes;
        self.page_size = found.page_size;
        if resized {
            // Another page size: every replica is compared whole.
            self.history.clear();
            self.generation += 2;
            return Ok(kind);
        }
        let Some(changed) = changed else {
            return Ok(kind);
        };
        self.generation += 1;
        self.history.push_back((self.generation, changed));
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
        Ok(kind)
    }

    /// Reads the file (the read transaction holds the SHARED lock): the listed pages or
    /// the whole file; a little at once (tens of microseconds), more on a blocking thread.
    async fn read_locked(
        &mut self,
        reported: impl FnOnce(u32, u32) -> Option<Changed>,
    ) -> Result<Loaded, CopyError> {
        let header = Header::read(&self.file, self.page_size)?;
        let listed = match self.counter {
            Some(last) if header.page_size == self.page_size && !self.bytes.is_empty() => {
                header.counter.and_then(|now| reported(last, now))
            }
            _ => None,
        };
        let mut bytes = std::mem::take(&mut self.bytes);
        let file = self.file.clone();
        let page_size = header.page_size;
        let Some(listed) = listed else {
            let read = move || {
                let changed = read_changes(&file, Arc::make_mut(&mut bytes), page_size)?;
                Ok(Loaded {
                    bytes,
                    header,
                    changed,
                    kind: Read::Whole,
                })
            };
            let small = header.len <= INLINE_BYTES;
            if small {
                return read();
            }
            return tokio::task::spawn_blocking(read)
                .await
                .map_err(|_| CopyError::Cancelled)?;
        };
        let pages = pages_to_read(&listed, bytes.len(), header.len, page_size);
        let few = pages.len() * page_size <= INLINE_BYTES as usize;
        let read = move || {
            let changed = read_pages(&file, Arc::make_mut(&mut bytes), page_size, &pages)?;
            Ok(Loaded {
                bytes,
                header,
                changed,
                kind: Read::Listed,
            })
        };
        if few {
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

/// How much of the primary a read read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    /// The pages the commits since the last read listed.
    Listed,
    /// The whole file.
    Whole,
}

/// What a read of the primary brought back.
struct Loaded {
    /// The file's bytes.
    bytes: Arc<Vec<u8>>,
    /// Its header.
    header: Header,
    /// The pages that changed (`None`: nothing changed).
    changed: Option<Vec<u32>>,
    /// How much was read.
    kind: Read,
}

/// The fields of the primary's header a read needs.
#[derive(Debug, Clone, Copy)]
struct Header {
    /// The file's length in bytes.
    len: u64,
    /// Its page size (the last one known, for a file too short to say).
    page_size: usize,
    /// Its file change counter, if it has a header.
    counter: Option<u32>,
}

impl Header {
    /// Reads the header of `file` (`page_size`: the last one known).
    fn read(file: &File, page_size: usize) -> Result<Self, CopyError> {
        let len = file.metadata()?.len();
        let mut header = [0u8; 100];
        if len < header.len() as u64 {
            return Ok(Self {
                len,
                page_size,
                counter: None,
            });
        }
        file.read_exact_at(&mut header, 0)?;
        if header[18] == 2 || header[19] == 2 {
            return Err(CopyError::Wal);
        }
        let page_size = match u16::from_be_bytes([header[16], header[17]]) {
            1 => 65536,
            n if n >= 512 && n.is_power_of_two() => usize::from(n),
            _ => page_size,
        };
        Ok(Self {
            len,
            page_size,
            counter: Some(u32::from_be_bytes([
                header[24], header[25], header[26], header[27],
            ])),
        })
    }
}

/// The indexes of the pages to read for `listed`, in a file of `len` bytes whose last
/// read was `old_len` bytes long: the listed ones, page 1, and every page from where the
/// file may have grown.
fn pages_to_read(listed: &Changed, old_len: usize, len: u64, page_size: usize) -> Vec<u32> {
    let count = u32::try_from(
        usize::try_from(len)
            .unwrap_or(usize::MAX)
            .div_ceil(page_size),
    )
    .unwrap_or(u32::MAX);
    let old_count = u32::try_from(old_len / page_size).unwrap_or(u32::MAX);
    let grown_from = listed.from_page.min(old_count);
    let mut pages: BTreeSet<u32> = listed.pages.range(..count).copied().collect();
    pages.insert(0);
    pages.extend(grown_from..count);
    pages.into_iter().collect()
}

/// Reads the pages `pages` of `file` into `bytes` (resized to the file's length); returns
/// those that changed (`None`: nothing changed).
fn read_pages(
    file: &File,
    bytes: &mut Vec<u8>,
    page_size: usize,
    pages: &[u32],
) -> Result<Option<Vec<u32>>, CopyError> {
    let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
    let old_len = bytes.len();
    bytes.resize(len, 0);
    let mut scratch = vec![0u8; page_size];
    let mut changed = Vec::new();
    for page in pages {
        let at = *page as usize * page_size;
        if at >= len {
            break;
        }
        let end = (at + page_size).min(len);
        let read = &mut scratch[..end - at];
        file.read_exact_at(read, at as u64)?;
        let current = &mut bytes[at..end];
        if at >= old_len || current != &read[..] {
            current.copy_from_slice(read);
            changed.push(*page);
        }
    }
    Ok((!changed.is_empty() || old_len != len).then_some(changed))
}

/// Reads `file` into `bytes`, comparing page by page (`page_size`: the one its header
/// gives); returns the changed pages (`None`: nothing changed).
fn read_changes(
    file: &File,
    bytes: &mut Vec<u8>,
    page_size: usize,
) -> Result<Option<Vec<u32>>, CopyError> {
    let len = usize::try_from(file.metadata()?.len()).map_err(std::io::Error::other)?;
    let old_len = bytes.len();
    bytes.resize(len, 0);
    let mut scratch = vec![0u8; page_size * CHUNK_PAGES];
    let mut changed = Vec::new();
    let mut offset = 0;
    while offset < len {
        let n = scratch.len().min(len - offset);
        file.read_exact_at(&mut scratch[..n], offset as u64)?;
        for start in (0..n).step_by(page_size) {
            let end = (start + page_size).min(n);
            let at = offset + start;
            let current = &mut bytes[at..end + offset];
            if at >= old_len || current != &scratch[start..end] {
                current.copy_from_slice(&scratch[start..end]);
                changed.push(u32::try_from(at / page_size).map_err(std::io::Error::other)?);
            }
        }
        offset += n;
    }
    Ok((!changed.is_empty() || old_len != len).then_some(changed))
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
            // Nothing to write; still not "copied" if the node should no longer receive it
            // (promoted meanwhile: its position is its own now).
            return Ok(still_wanted());
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
