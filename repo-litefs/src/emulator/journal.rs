//! Which pages a commit is about to write, read from SQLite's rollback journal at the
//! commit hook.
//!
//! In rollback-journal mode SQLite copies a page's original content into `<db>-journal`
//! before it first changes the page, and it calls the commit hook before it writes any page
//! of the commit to the database file. So at the hook the journal lists every page of the
//! file that the commit changes, but for three kinds: freelist leaf pages (SQLite reuses
//! one without saving its content, which does not matter; they are listed from the
//! freelist as the transaction found it), and two the reader of a [`CommitPages`] must add:
//! page 1 (its change counter is incremented after the hook) and pages past the file's
//! original size (new pages have no original content to save).
//!
//! The format (SQLite's `pager.c`): segments, each a header of one sector (magic, record
//! count, nonce, the file's original size in pages, sector size, page size) followed by
//! records (a 4-byte page number, the page, a 4-byte checksum). The last segment's count is
//! written only when the journal is synced, so it is read to the end of the file; stale
//! records left by an earlier transaction (`journal_mode = PERSIST`) are told apart by their
//! checksums, which start from each segment's random nonce, as SQLite's own recovery does.
//!
//! Nothing is reported (and the emulator compares the file whole) when the journal cannot
//! be read or parsed, for auto-vacuum databases (their commit moves pages after the hook),
//! in WAL mode, and for commits of more than [`MAX_RECORDS`] journaled pages or a freelist
//! longer than that.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// The journal's magic number.
const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

/// The bytes of a segment header that carry fields: magic, record count, nonce, original
/// size in pages, sector size, page size.
const HEADER: usize = 28;

/// Beyond this many journaled pages the commit is not reported: reading that many page
/// numbers inside the commit costs more than the whole-file comparison it would save.
pub(crate) const MAX_RECORDS: u64 = 4096;

/// What a commit is about to write (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommitPages {
    /// The file change counter the commit leaves in the file's header.
    pub(crate) counter: u32,
    /// The file's size in pages before the commit: any page from this index on may be new.
    pub(crate) original_pages: u32,
    /// Indexes (page number - 1) of the pages the commit changes that the file had.
    pub(crate) pages: Vec<u32>,
}

/// The rollback journal of the database at `db`.
pub(crate) fn journal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-journal");
    PathBuf::from(name)
}

/// The change counter in the header of the database file at `db`.
pub(crate) fn file_counter(db: &Path) -> Option<u32> {
    let file = File::open(db).ok()?;
    let mut counter = [0u8; 4];
    file.read_exact_at(&mut counter, 24).ok()?;
    Some(u32::from_be_bytes(counter))
}

/// What the commit under way on the database at `db` is about to write, read from its
/// journal; `None` when that cannot be known (see the module docs). Call it only from the
/// commit hook of the connection committing.
pub(crate) fn pending_commit(db: &Path) -> Option<CommitPages> {
    let db_file = File::open(db).ok()?;
    let mut header = [0u8; 100];
    db_file.read_exact_at(&mut header, 0).ok()?;
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        n if n >= 512 && n.is_power_of_two() => u32::from(n),
        _ => return None,
    };
    // Read at once (one system call inside the commit, not one per record), if it is not
    // larger than a commit that is reported at all.
    let mut file = File::open(journal_path(db)).ok()?;
    let len = file.metadata().ok()?.len();
    if len > MAX_RECORDS * (u64::from(page_size) + 8) + 2 * 65536 {
        return None;
    }
    let mut journal = Vec::with_capacity(usize::try_from(len).ok()?);
    file.read_to_end(&mut journal).ok()?;
    let segments = Segments {
        journal: &journal,
        page_size,
    };
    // Where each journaled page's original content is in the journal.
    let mut journaled: BTreeMap<u32, u64> = BTreeMap::new();
    let mut original_pages = None;
    let mut at = 0;
    loop {
        let segment = segments.read(at)?;
        original_pages.get_or_insert(segment.original_pages);
        if journaled.len() as u64 + segment.records > MAX_RECORDS {
            return None;
        }
        for index in 0..segment.records {
            let at = segment.first_record + index * segment.record_size;
            let record = slice(&journal, at, segment.record_size)?;
            if !segment.holds(record) {
                // Left by an earlier transaction (`PERSIST`): the commit's records end here.
                break;
            }
            let number = u32::from_be_bytes([record[0], record[1], record[2], record[3]]);
            if number != 0 {
                journaled.entry(number).or_insert(at + 4);
            }
        }
        match segment.next {
            Some(next) => at = next,
            None => break,
        }
    }
    // A page's content when the transaction began: journaled, or still in the file (only a
    // journaled page can have been written to the file before the commit).
    let original = |number: u32| -> Option<Vec<u8>> {
        if let Some(at) = journaled.get(&number) {
            return slice(&journal, *at, u64::from(page_size)).map(<[u8]>::to_vec);
        }
        let mut page = vec![0u8; page_size as usize];
        db_file
            .read_exact_at(&mut page, u64::from(number - 1) * u64::from(page_size))
            .ok()?;
        Some(page)
    };
    let first = original(1)?;
    let field = |page: &[u8], i: usize| {
        u32::from_be_bytes([page[i], page[i + 1], page[i + 2], page[i + 3]])
    };
    let wal = first[18] == 2 || first[19] == 2;
    let auto_vacuum = field(&first, 52) != 0;
    if wal || auto_vacuum {
        return None;
    }
    let mut pages: Vec<u32> = journaled.keys().map(|n| n - 1).collect();
    pages.extend(free_leaves(&first, page_size, original)?);
    pages.sort_unstable();
    pages.dedup();
    Some(CommitPages {
        counter: field(&first, 24).wrapping_add(1),
        original_pages: original_pages?,
        pages,
    })
}

/// The indexes of the freelist's leaf pages in the file whose page 1 is `first`, reading
/// trunk pages with `original`: SQLite reuses a leaf without journaling it (its content
/// does not matter), so a commit may change any of them. `None` for a freelist too long
/// to list (or not well formed).
fn free_leaves(
    first: &[u8],
    page_size: u32,
    original: impl Fn(u32) -> Option<Vec<u8>>,
) -> Option<Vec<u32>> {
    let field = |page: &[u8], i: usize| {
        u32::from_be_bytes([page[i], page[i + 1], page[i + 2], page[i + 3]])
    };
    let total = u64::from(field(first, 36));
    if total > MAX_RECORDS {
        return None;
    }
    let mut leaves = Vec::new();
    let mut seen = 0u64;
    let mut trunk = field(first, 32);
    while trunk != 0 {
        let page = original(trunk)?;
        let count = field(&page, 4);
        seen += 1 + u64::from(count);
        if seen > total || u64::from(count) > u64::from(page_size / 4 - 2) {
            return None;
        }
        leaves.extend(
            (0..count as usize)
                .map(|i| field(&page, 8 + 4 * i))
                .filter(|n| *n != 0)
                .map(|n| n - 1),
        );
        trunk = field(&page, 0);
    }
    Some(leaves)
}

/// Reads the journal's segments.
struct Segments<'a> {
    /// The journal's bytes.
    journal: &'a [u8],
    /// The database's page size.
    page_size: u32,
}

/// `len` bytes of `bytes` from `at`, if it has them.
fn slice(bytes: &[u8], at: u64, len: u64) -> Option<&[u8]> {
    let at = usize::try_from(at).ok()?;
    bytes.get(at..at.checked_add(usize::try_from(len).ok()?)?)
}

/// One segment of the journal.
struct Segment {
    /// The random start of its records' checksums.
    nonce: u32,
    /// The file's size in pages when the transaction began.
    original_pages: u32,
    /// Where its first record starts.
    first_record: u64,
    /// Bytes per record.
    record_size: u64,
    /// How many records to read.
    records: u64,
    /// Where the next segment's header is, if there is one.
    next: Option<u64>,
}

impl Segment {
    /// Whether `record` (page number, page, checksum) was written with this segment's
    /// nonce: SQLite's checksum is the nonce plus every 200th byte of the page, from the end.
    fn holds(&self, record: &[u8]) -> bool {
        let (page, sum) = record[4..].split_at(record.len() - 8);
        let expected = (1..)
            .map(|k| page.len() as i64 - 200 * k)
            .take_while(|i| *i > 0)
            .fold(self.nonce, |sum, i| {
                sum.wrapping_add(u32::from(page[i as usize]))
            });
        sum == expected.to_be_bytes()
    }
}

impl Segments<'_> {
    /// The segment whose header is at `at`; `None` when there is none or it is not one of
    /// this database's.
    fn read(&self, at: u64) -> Option<Segment> {
        let header = self.header(at)?;
        let field =
            |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let (count, nonce, original_pages, sector) = (field(8), field(12), field(16), field(20));
        let first_record = at + u64::from(sector);
        let record_size = u64::from(self.page_size) + 8;
        let len = self.journal.len() as u64;
        let fit = len.saturating_sub(first_record) / record_size;
        // A count is written (with the magic) only when the journal is synced: 0 (no magic)
        // before that, all ones without syncs. Either way the segment runs to the end.
        let synced = header[..8] == MAGIC && count != u32::MAX;
        let counted = synced.then(|| u64::from(count).min(fit));
        let next = counted
            .map(|n| (first_record + n * record_size).next_multiple_of(u64::from(sector)))
            .filter(|next| self.header(*next).is_some());
        Some(Segment {
            nonce,
            original_pages,
            first_record,
            record_size,
            // The last segment is read to the end (its checksums tell where the commit's
            // records stop): records appended after its count was written belong to it.
            records: match (next, counted) {
                (Some(_), Some(n)) => n,
                _ => fit,
            },
            next,
        })
    }

    /// The segment header at `at`, if one of this database's starts there: with the magic
    /// (synced, or written without syncs), or with magic and count still zero (not synced
    /// yet); a header zeroed at the end of a transaction has no page size, so is none.
    fn header(&self, at: u64) -> Option<[u8; HEADER]> {
        let header: [u8; HEADER] = slice(self.journal, at, HEADER as u64)?.try_into().ok()?;
        let field =
            |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
        let marked = header[..8] == MAGIC || header[..12] == [0; 12];
        let sector = field(20);
        let valid = marked
            && field(24) == self.page_size
            && (32..=65536).contains(&sector)
            && sector.is_power_of_two();
        valid.then_some(header)
    }
}

#[cfg(test)]
#[path = "journal_tests.rs"]
mod tests;
