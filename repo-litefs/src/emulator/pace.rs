//! `Pace`: when a replication loop looks at the primary again — every millisecond while
//! changes keep coming, every [`IDLE`] when nothing changed for a while, at once when
//! woken ([`Wake`]: a commit guard about to let a commit through, a test waiting for sync).
//!
//! A look costs one 4-byte read of the primary's file change counter (no SQL, no lock); what
//! an idle loop costs is mostly its wake-ups (the runtime parking and unparking a thread),
//! hence [`IDLE`]'s 50 ms: 20 looks a second.
//!
//! The idle period delays only commits that nothing announced: a commit through a node's
//! guarded writer ([`super::LiteFsEmulator::commit_guard`], every write of the library)
//! wakes the loop at once, and so does a wait for sync. Idle looks are there for writes from
//! outside the library (a script writing the primary's file, a test's own connection): those
//! are seen up to 50 ms later (then every millisecond while they continue), on top of the
//! configured lag; real LiteFS sees every commit, so no period applies there.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How often the primary is looked at while it changes.
const ACTIVE: Duration = Duration::from_millis(1);

/// How often the primary is looked at when idle (see the module docs for what it delays).
pub(crate) const IDLE: Duration = Duration::from_millis(50);

/// How long the loop stays active after the last change or wake-up.
const STAY_ACTIVE: Duration = Duration::from_millis(250);

/// Wakes a replication loop at once; cheap to clone, callable from any thread.
#[derive(Debug, Clone, Default)]
pub(crate) struct Wake {
    /// A stored permit if the loop is busy: its next wait ends at once.
    notify: Arc<Notify>,
}

impl Wake {
    /// Makes the loop look at the primary now and poll actively for a while.
    pub(crate) fn wake(&self) {
        self.notify.notify_one();
    }
}

/// The loop's side of [`Wake`]: how long it sleeps between looks.
#[derive(Debug)]
pub(crate) struct Pace {
    /// Woken by.
    wake: Wake,
    /// The last change seen or wake-up received.
    last_activity: Option<Instant>,
}

impl Pace {
    /// A pace woken by `wake`.
    pub(crate) fn new(wake: Wake) -> Self {
        Self {
            wake,
            last_activity: None,
        }
    }

    /// A change was seen: look again soon.
    pub(crate) fn active(&mut self) {
        self.last_activity = Some(Instant::now());
    }

    /// Sleeps until the next look: at `due` at the latest, sooner if woken.
    pub(crate) async fn wait(&mut self, due: Option<Instant>) {
        let now = Instant::now();
        let active = self
            .last_activity
            .is_some_and(|at| now.duration_since(at) < STAY_ACTIVE);
        let mut until = now + if active { ACTIVE } else { IDLE };
        if let Some(due) = due {
            until = until.min(due);
        }
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = self.wake.notify.notified() => self.active(),
        }
    }
}

/// The file change counter in the header of the SQLite file at `path` (bytes 24..28),
/// which every commit in rollback-journal mode increments; `None` when the file is shorter
/// than a header or unreadable. Read without a lock: a hint that something changed, the
/// copy itself reads under SQLite's lock.
pub(crate) fn change_counter(path: &Path) -> Option<[u8; 4]> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    file.seek(SeekFrom::Start(24)).ok()?;
    let mut counter = [0u8; 4];
    file.read_exact(&mut counter).ok()?;
    Some(counter)
}
