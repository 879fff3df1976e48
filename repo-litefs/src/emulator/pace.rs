//! `Pace`: when a replication loop looks at the primary again — every millisecond while
//! changes keep coming, every [`IDLE`] when nothing changed for a while, at once when
//! woken ([`Wake`]: a commit guard about to let a commit through, a test waiting for sync).
//!
//! A look costs one 4-byte read of the primary's file change counter (no SQL, no lock); what
//! an idle loop costs is mostly its wake-ups (the runtime parking and unparking a thread),
//! hence [`IDLE`]'s 50 ms: 20 looks a second.
//!
//! The idle period delays only commits that nothing announced: the end of every commit in
//! SQLite's default journal mode (its rollback journal deleted: [`wake_on_commits`], from
//! any process, where the kernel reports file events), a commit through a node's guarded
//! writer ([`super::LiteFsEmulator::commit_guard`]) and a wait for sync wake the loop at
//! once. Idle looks are there for commits nothing announced (a journal mode that keeps the
//! journal, a file system without events): those are seen up to 50 ms later (then every
//! millisecond while they continue), on top of the configured lag; real LiteFS sees every
//! commit, so no period applies there.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::file_events::FileEvents;

/// How often the primary is looked at while it changes.
const ACTIVE: Duration = Duration::from_millis(1);

/// How often the primary is looked at when idle (see the module docs for what it delays).
pub(crate) const IDLE: Duration = Duration::from_millis(50);

/// How long the loop stays active after the last change or wake-up.
const STAY_ACTIVE: Duration = Duration::from_millis(250);

/// Wakes a replication loop at once; cheap to clone, callable from any thread.
#[derive(Debug, Clone)]
pub(crate) struct Wake {
    /// A stored permit if the loop is busy: its next wait ends at once.
    notify: Arc<Notify>,
    /// The idle period in microseconds ([`IDLE`] unless changed).
    idle_micros: Arc<AtomicU64>,
}

impl Default for Wake {
    fn default() -> Self {
        Self {
            notify: Arc::default(),
            idle_micros: Arc::new(AtomicU64::new(micros(IDLE))),
        }
    }
}

impl Wake {
    /// Makes the loop look at the primary now and poll actively for a while.
    pub(crate) fn wake(&self) {
        self.notify.notify_one();
    }

    /// Changes how often an idle primary is looked at (at most once a day: a longer period
    /// would make no difference and could overflow the clock).
    pub(crate) fn set_idle(&self, idle: Duration) {
        let idle = idle.min(Duration::from_secs(24 * 3600));
        self.idle_micros.store(micros(idle), Ordering::Relaxed);
    }

    /// How often an idle primary is looked at.
    fn idle(&self) -> Duration {
        Duration::from_micros(self.idle_micros.load(Ordering::Relaxed))
    }
}

/// `d` in whole microseconds (saturating).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Wakes the loop whenever a commit on one of the nodes' files ends: the kernel reports
/// the rollback journal `<db>-journal` deleted (see [`FileEvents::deletions`]), which in
/// SQLite's default journal mode happens at the end of every commit, from any process. So a
/// commit is seen as it ends, not at the next look, also when it comes from a process the
/// emulator has no commit guard in (the local cluster's node processes). Periodic looks
/// remain for journal modes that keep the journal (`TRUNCATE`, `PERSIST`) and where the
/// kernel reports nothing.
pub(crate) async fn wake_on_commits(wake: Wake, journals: Vec<PathBuf>) {
    let mut events = FileEvents::deletions(&journals);
    if !events.active() {
        return;
    }
    loop {
        events.next().await;
        wake.wake();
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
        let mut until = now + if active { ACTIVE } else { self.wake.idle() };
        let mut lag_ends = false;
        if let Some(due) = due
            && due <= until
        {
            until = due;
            lag_ends = true;
        }
        tokio::select! {
            () = sleep_until(until, lag_ends) => {}
            () = self.wake.notify.notified() => self.active(),
        }
    }
}

/// How close to a lag's end the wait leaves Tokio's timer for a precise sleep.
const PRECISE: Duration = Duration::from_millis(1);

/// Sleeps until `until`. Tokio's timer fires on whole milliseconds, up to about 1 ms late;
/// when a lag ends at `until` (`precise`), Tokio's timer sleeps until [`PRECISE`] before
/// it (firing up to 1 ms later, never after `until`) and the rest, under a millisecond, is
/// slept on this thread (the system's timer: tens of microseconds late), so that the
/// emulated lag is what was configured, not up to a millisecond more. Handing that sleep to
/// a blocking thread would cost two thread wake-ups, as much as it saves on a busy
/// machine; the loop's thread is held for under a millisecond once per round. Never
/// earlier than `until`.
async fn sleep_until(until: Instant, precise: bool) {
    if !precise {
        return tokio::time::sleep_until(until).await;
    }
    if let Some(coarse) = until.checked_sub(PRECISE)
        && coarse > Instant::now()
    {
        tokio::time::sleep_until(coarse).await;
    }
    let left = until.saturating_duration_since(Instant::now());
    if !left.is_zero() {
        std::thread::sleep(left.min(PRECISE));
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
