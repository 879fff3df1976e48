//! Commit reports across processes: what a node process's commits are about to write, told
//! to an emulator running in another process (the local cluster runs each node as a child
//! process) through a file in the node's mount directory.
//!
//! A node process gives its writer [`commit_reporter`]'s guard: at each commit it appends
//! one line with the pages the commit writes (read from the journal, see
//! [`super::journal`]), at each rollback one line saying so. Before the emulator reads the
//! primary it takes in the new complete lines of the primary's file into its
//! [`CommitLog`]. A line that is lost (the file truncated under a writer, a process killed
//! mid-line) only leaves a counter unreported: the emulator then compares the file whole.
//!
//! Lines: `c <counter> <original pages> <page>,<page>,…` and `r <counter>` (`r -` when the
//! counter could not be read).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use repo_core::CommitGuard;

use super::commit_log::CommitLog;
use super::journal::{self, CommitPages};

/// The report file's name in a node's mount directory.
const FILE_NAME: &str = ".commits";

/// Once read whole and this long, the file is emptied.
const TRUNCATE_AT: u64 = 1 << 20;

/// The report file of the node whose mount directory is `dir`.
pub(crate) fn report_path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// A commit guard for a node process on the emulator, whose writer commits to `db_path` in
/// the mount directory `mount_dir`: it lets every commit through (a node process is not
/// fenced) and reports what each commit writes, so that the emulator reads only those
/// pages of the primary (see the module docs). Give it to
/// [`repo_core::WriterConfig::commit_guard`].
pub fn commit_reporter(db_path: &Path, mount_dir: &Path) -> std::io::Result<CommitGuard> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(report_path(mount_dir))?;
    let file = Arc::new(Mutex::new(file));
    let (db, rolled_back_db) = (db_path.to_owned(), db_path.to_owned());
    let rolled_back_file = file.clone();
    Ok(CommitGuard::new(move || {
        if let Some(commit) = journal::pending_commit(&db) {
            append(&file, &commit_line(&commit));
        }
        true
    })
    .on_rollback(move || {
        let counter = journal::file_counter(&rolled_back_db);
        let line = match counter {
            Some(counter) => format!("r {counter}\n"),
            None => "r -\n".to_owned(),
        };
        append(&rolled_back_file, &line);
    }))
}

/// The line reporting `commit`.
fn commit_line(commit: &CommitPages) -> String {
    let pages: Vec<String> = commit.pages.iter().map(u32::to_string).collect();
    format!(
        "c {} {} {}\n",
        commit.counter,
        commit.original_pages,
        pages.join(",")
    )
}

/// Appends `line` in one write (a reader sees it whole or not at all, or a prefix without
/// its newline, which it leaves for later). A failed write loses the report: the emulator
/// then compares the file whole.
fn append(file: &Mutex<File>, line: &str) {
    if let Ok(mut file) = file.lock() {
        let _ = file.write_all(line.as_bytes());
    }
}

/// The emulator's side: where it is in one node's report file.
#[derive(Debug, Default)]
pub(crate) struct ReportReader {
    /// The file, once it exists (kept open: it is read at every round).
    file: Option<File>,
    /// How far the file has been taken in.
    offset: u64,
}

impl ReportReader {
    /// Takes the new complete lines of the report file in `dir` into `log`.
    pub(crate) fn take_in(&mut self, dir: &Path, log: &mut CommitLog) {
        if self.file.is_none() {
            self.file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(report_path(dir))
                .ok();
        }
        let Some(file) = self.file.as_mut() else {
            return;
        };
        let Ok(len) = file.metadata().map(|m| m.len()) else {
            return;
        };
        if len < self.offset {
            // Emptied meanwhile: start over.
            self.offset = 0;
        }
        let mut new = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_err() || file.read_to_end(&mut new).is_err() {
            return;
        }
        let complete = new.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        for line in String::from_utf8_lossy(&new[..complete]).lines() {
            apply(line, log);
        }
        self.offset += complete as u64;
        if complete == new.len() && self.offset >= TRUNCATE_AT && file.set_len(0).is_ok() {
            // A line appended between the read and this is lost: its counter goes
            // unreported, and the emulator compares the file whole once.
            self.offset = 0;
        }
    }
}

/// Applies one report line to `log`; a line that does not parse is ignored (its counter
/// goes unreported).
fn apply(line: &str, log: &mut CommitLog) {
    let fields: Vec<&str> = line.split(' ').collect();
    match fields[..] {
        ["c", counter, original, pages] => {
            let pages: Option<Vec<u32>> = if pages.is_empty() {
                Some(Vec::new())
            } else {
                pages.split(',').map(|n| n.parse().ok()).collect()
            };
            if let (Ok(counter), Ok(original_pages), Some(pages)) =
                (counter.parse(), original.parse(), pages)
            {
                log.record(CommitPages {
                    counter,
                    original_pages,
                    pages,
                });
            }
        }
        ["r", counter] => log.rolled_back(counter.parse().ok()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_a_partial_line_waits() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut log = CommitLog::default();
        let mut reader = ReportReader::default();
        let commit = CommitPages {
            counter: 8,
            original_pages: 40,
            pages: vec![3, 17],
        };
        let mut text = commit_line(&commit);
        text.push_str("c 9 41 \nr 8\nc 10 4");
        std::fs::write(report_path(dir.path()), &text).expect("write");
        reader.take_in(dir.path(), &mut log);
        let changed = log.changes(7, 8).expect("counter 8 reported");
        assert_eq!(changed.pages.into_iter().collect::<Vec<_>>(), vec![3, 17]);
        assert_eq!(changed.from_page, 40);
        assert_eq!(log.changes(8, 9), None, "counter 9 was rolled back");
        // The rest of the partial line arrives.
        let mut file = OpenOptions::new()
            .append(true)
            .open(report_path(dir.path()))
            .expect("the report file");
        file.write_all(b"2 5\n").expect("append");
        reader.take_in(dir.path(), &mut log);
        let changed = log.changes(9, 10).expect("counter 10 reported");
        assert_eq!(changed.from_page, 42);
        assert_eq!(changed.pages.into_iter().collect::<Vec<_>>(), vec![5]);
    }

    #[test]
    fn garbage_is_ignored() {
        let mut log = CommitLog::default();
        for line in [
            "",
            "c",
            "c 1",
            "c x 2 3",
            "c 1 2 3,y",
            "r",
            "r 1 2",
            "zz 1 2 3",
            "c 1 2 3 4",
        ] {
            apply(line, &mut log);
        }
        assert_eq!(log.changes(0, 1), None);
    }
}
