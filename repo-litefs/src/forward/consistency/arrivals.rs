//! `Arrivals`: one watcher per node that tells every waiting write when it has arrived.
//!
//! A waiting write registers (its request id, and the primary's position after the commit
//! when known), then looks for itself once. From then on the node's watcher does the
//! looking: every millisecond while at least one write waits (never while none does), and
//! at once when the kernel reports that one of the signal's files was written and closed,
//! renamed into place or deleted ([`FileEvents`]: the emulator's copy, a `<db>-pos`
//! rewritten), it looks at the node's [`ChangeSignal`] (a few bytes of a few files, no
//! SQL), and only when that changed does it look for every waiting write at once: the position (one read per
//! distinct target, stopping at the first one not reached) and one ledger query for all
//! the ids (`WHERE request_id IN (…)`). A write found is told through its channel. So the
//! database is asked once per change of this node's files, whatever the number of waiting
//! writes, and not at all while nothing changes. Each write's wait keeps its own bound:
//! the watcher only ever ends a wait early.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use super::signal::{ChangeSignal, Fingerprint};
use crate::backend::ReplicationPosition;
use crate::file_events::FileEvents;
use crate::ledger::{TABLE, ledger_statement};

/// How often the watcher looks at the signal while writes wait.
const LOOK: Duration = Duration::from_millis(1);

/// The longest one ledger query of the watcher may take before it is given up and tried
/// again at the next look (the emulator or LiteFS may hold the file's lock meanwhile).
const QUERY_BOUND: Duration = Duration::from_millis(250);

/// How many ids one ledger query asks for at most (well under SQLite's and PostgreSQL's
/// limits on bound values).
const CHUNK: usize = 256;

/// The node's watcher of arriving writes (see the [module docs](self)).
#[derive(Debug)]
pub(crate) struct Arrivals {
    /// What the waiting writes and the watcher share.
    shared: Arc<Shared>,
    /// The watcher, started with the first wait; stopped when this is dropped.
    task: Mutex<Option<JoinHandle<()>>>,
}

/// The state shared by waiting writes and the watcher.
#[derive(Debug)]
struct Shared {
    /// This node's database, where the ledger rows arrive.
    local: DatabaseConnection,
    /// This node's replication position, when the primary reports one.
    position: Option<Arc<dyn ReplicationPosition>>,
    /// What tells the watcher that the database may have changed.
    signal: ChangeSignal,
    /// How often the watcher looks at the signal while writes wait, events aside.
    look: Duration,
    /// The writes waiting now, by registration key.
    waiting: Mutex<HashMap<u64, Waiting>>,
    /// The next registration key.
    next_key: AtomicU64,
    /// Wakes the watcher when a write starts waiting.
    wake: Notify,
}

/// One waiting write.
#[derive(Debug)]
struct Waiting {
    /// Its request id, whose ledger row replicates with it.
    request_id: Uuid,
    /// The primary's position after its commit, when reported and comparable.
    txid: Option<u64>,
    /// Told once it has arrived.
    arrived: oneshot::Sender<()>,
}

/// A write's place among the waiting ones; leaves when dropped.
#[derive(Debug)]
pub(crate) struct Registration<'a> {
    /// Where it waits.
    arrivals: &'a Arrivals,
    /// Its key in [`Shared::waiting`].
    key: u64,
    /// Told by the watcher once the write has arrived.
    arrived: oneshot::Receiver<()>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        if let Ok(mut waiting) = self.arrivals.shared.waiting.lock() {
            waiting.remove(&self.key);
        }
    }
}

impl Registration<'_> {
    /// Returns once the watcher found the write; never if the watcher is gone (the
    /// caller's bound ends the wait then).
    pub(crate) async fn arrived(&mut self) {
        if (&mut self.arrived).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Arrivals {
    fn drop(&mut self) {
        if let Ok(Some(task)) = self.task.get_mut().map(Option::take) {
            task.abort();
        }
    }
}

impl Arrivals {
    /// A watcher for writes arriving in `local` (and at `position`), told of changes by
    /// `signal`. Nothing runs until the first write waits.
    pub(crate) fn new(
        local: DatabaseConnection,
        position: Option<Arc<dyn ReplicationPosition>>,
        signal: ChangeSignal,
    ) -> Self {
        Self::with_look(local, position, signal, LOOK)
    }

    /// Like [`Arrivals::new`], looking every `look` (events aside).
    fn with_look(
        local: DatabaseConnection,
        position: Option<Arc<dyn ReplicationPosition>>,
        signal: ChangeSignal,
        look: Duration,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                local,
                position,
                signal,
                look,
                waiting: Mutex::new(HashMap::new()),
                next_key: AtomicU64::new(0),
                wake: Notify::new(),
            }),
            task: Mutex::new(None),
        }
    }

    /// Registers a write as waiting, before it first looks for itself: a change after
    /// this call is seen by the watcher.
    pub(crate) fn register(&self, request_id: Uuid, txid: Option<u64>) -> Registration<'_> {
        self.start_watcher();
        let key = self.shared.next_key.fetch_add(1, Ordering::Relaxed);
        let (tell, arrived) = oneshot::channel();
        if let Ok(mut waiting) = self.shared.waiting.lock() {
            waiting.insert(
                key,
                Waiting {
                    request_id,
                    txid,
                    arrived: tell,
                },
            );
        }
        self.shared.wake.notify_one();
        Registration {
            arrivals: self,
            key,
            arrived,
        }
    }

    /// Whether one write has arrived, asked by the write itself (its first look, before
    /// the watcher takes over), bounded by `until`. A read error counts as "not yet".
    pub(crate) async fn look_for(
        &self,
        request_id: Uuid,
        txid: Option<u64>,
        until: Instant,
    ) -> bool {
        let shared = &self.shared;
        if let (Some(position), Some(target)) = (&shared.position, txid)
            && position.reached(target).await
        {
            return true;
        }
        let until = until.max(Instant::now() + LOOK);
        matches!(
            tokio::time::timeout_at(until, shared.present(&[request_id])).await,
            Ok(Some(found)) if !found.is_empty()
        )
    }

    /// Starts the watcher if it is not running, its first look taken now (so that a change
    /// between now and its first tick is seen as one).
    fn start_watcher(&self) {
        let Ok(mut task) = self.task.lock() else {
            return;
        };
        if task.is_none() {
            let first = self.shared.signal.look();
            *task = Some(tokio::spawn(watch(self.shared.clone(), first)));
        }
    }
}

/// The watcher: sleeps while no write waits; otherwise looks at the signal every [`LOOK`]
/// and when a file event comes, and, when it changed, for every waiting write.
async fn watch(shared: Arc<Shared>, first: Fingerprint) {
    let mut last = Some(first);
    let mut events = FileEvents::watch(shared.signal.paths());
    let mut tick = tokio::time::interval(shared.look);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        while shared.waiting.lock().map_or(true, |w| w.is_empty()) {
            // A write registering after the check stores a permit: no wake-up is lost.
            shared.wake.notified().await;
        }
        // Events that came while nobody waited cost one look, which finds nothing changed.
        tokio::select! {
            _ = tick.tick() => {}
            () = events.next() => {}
        }
        let now = shared.signal.look();
        if last
            .as_ref()
            .is_some_and(|before| !now.changed_since(before))
        {
            continue;
        }
        // A look that could not be completed is not a look: the next tick repeats it.
        last = shared.tell_arrived().await.then_some(now);
    }
}

impl Shared {
    /// Looks for every waiting write and tells those that arrived; returns whether every
    /// query succeeded.
    async fn tell_arrived(&self) -> bool {
        let waiting: Vec<(u64, Uuid, Option<u64>)> = match self.waiting.lock() {
            Ok(w) => w.iter().map(|(k, w)| (*k, w.request_id, w.txid)).collect(),
            Err(_) => return true,
        };
        if waiting.is_empty() {
            return true;
        }
        let reached = self.reached(waiting.iter().filter_map(|w| w.2)).await;
        let mut found: Vec<u64> = Vec::new();
        let mut ask: Vec<(u64, Uuid)> = Vec::new();
        for (key, id, txid) in waiting {
            match (txid, reached) {
                (Some(t), Some(r)) if t <= r => found.push(key),
                _ => ask.push((key, id)),
            }
        }
        let mut complete = true;
        for chunk in ask.chunks(CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|(_, id)| *id).collect();
            match tokio::time::timeout(QUERY_BOUND, self.present(&ids)).await {
                Ok(Some(present)) => found.extend(
                    chunk
                        .iter()
                        .filter(|(_, id)| present.contains(id))
                        .map(|(key, _)| *key),
                ),
                _ => complete = false,
            }
        }
        if let Ok(mut waiting) = self.waiting.lock() {
            for key in found {
                if let Some(w) = waiting.remove(&key) {
                    let _ = w.arrived.send(());
                }
            }
        }
        complete
    }

    /// The highest of `targets` this node's position has reached (asked in ascending
    /// order, stopping at the first one not reached), if any.
    async fn reached(&self, targets: impl Iterator<Item = u64>) -> Option<u64> {
        let position = self.position.as_ref()?;
        let mut targets: Vec<u64> = targets.collect();
        targets.sort_unstable();
        targets.dedup();
        let mut reached = None;
        for target in targets {
            if !position.reached(target).await {
                break;
            }
            reached = Some(target);
        }
        reached
    }

    /// Which of `ids` have their ledger row here (`None` when the query failed).
    async fn present(&self, ids: &[Uuid]) -> Option<Vec<Uuid>> {
        metrics::counter!("litefs_consistency_probes_total").increment(1);
        let marks = vec!["?"; ids.len()].join(", ");
        let probe = ledger_statement(
            self.local.get_database_backend(),
            &format!("SELECT request_id FROM {TABLE} WHERE request_id IN ({marks})"),
            ids.iter().map(|id| id.as_bytes().to_vec().into()),
        );
        let rows = self.local.query_all_raw(probe).await.ok()?;
        Some(
            rows.iter()
                .filter_map(|row| row.try_get_by_index::<Vec<u8>>(0).ok())
                .filter_map(|bytes| Uuid::from_slice(&bytes).ok())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
    use uuid::Uuid;

    use super::{Arrivals, ChangeSignal};

    /// Replaces `path`'s content through a rename, as the emulator and LiteFS's own writes
    /// of `<db>-pos` appear.
    fn replace(path: &std::path::Path, content: &str) {
        let fresh = path.with_extension("new");
        std::fs::write(&fresh, content).expect("write");
        std::fs::rename(&fresh, path).expect("rename");
    }

    /// With periodic looks an hour apart, only the kernel's event about the rewritten
    /// `<db>-pos` can make the watcher look: the waiting write is found through it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_event_makes_the_watcher_look_at_once() {
        let dir = tempfile::tempdir().expect("dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
        let db = Database::connect(url).await.expect("db");
        crate::ledger::create_table(&db).await.expect("ledger");
        let pos = dir.path().join("app.db-pos");
        replace(&pos, "0000000000000001/0000000000000000\n");
        let arrivals = Arrivals::with_look(
            db.clone(),
            None,
            ChangeSignal::files([&pos]),
            Duration::from_secs(3600),
        );
        let id = Uuid::new_v4();
        let mut waiting = arrivals.register(id, None);
        // Let the watcher take its first (immediate) periodic look: the next is an hour away.
        tokio::time::sleep(Duration::from_millis(300)).await;
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO litefs_ledger (request_id, response, created_at) VALUES (?, ?, 0)",
            [id.as_bytes().to_vec().into(), Vec::<u8>::new().into()],
        ))
        .await
        .expect("the row arrives");
        replace(&pos, "0000000000000002/0000000000000000\n");
        let found = tokio::time::timeout(Duration::from_secs(20), waiting.arrived()).await;
        assert!(found.is_ok(), "the event about <db>-pos was not acted on");
    }
}
