//! The emulator's replication loop: observe commits on the primary, copy its pages to the
//! replicas after the lag, keep TXIDs and `<db>-pos` files, announce `tx` events, and carry
//! out the lease's side of failovers (drain the old primary, then grant the lease).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions};
use tokio::time::Instant;

use super::files::write_pos;
use super::pace::{Pace, change_counter};
use super::pages::{CopyError, Read, Replica, Snapshot};
use super::state::Shared;

/// How long a failover waits for the old primary's last commit to end.
const DRAIN: Duration = Duration::from_secs(2);

/// How long a failed copy waits before it is tried again.
const RETRY: Duration = Duration::from_millis(100);

/// The primary the loop copies from.
struct Source {
    /// Its name.
    name: String,
    /// Its pages as last read.
    snapshot: Snapshot,
    /// Its file change counter at the last look.
    counter: Option<[u8; 4]>,
    /// Whether the loop has looked at it yet.
    looked: bool,
    /// Its tenure's generation: the lineage of the data copied from it.
    generation: u64,
    /// The newest TXID observed before the snapshot's last read began, which that read
    /// therefore holds (see [`copy_round`]); 0 before the first read.
    contained: u64,
}

pub(super) async fn replicate(shared: Arc<Shared>, lag: Duration) {
    let mut pace = Pace::new(shared.wake.clone());
    let mut source: Option<Source> = None;
    // The last primary the loop switched to, kept when opening it failed: the next
    // failover must still wait for its last commit.
    let mut last: Option<String> = None;
    let mut replicas: HashMap<String, Replica> = HashMap::new();
    // TXIDs seen on the primary, each with when it is due on the replicas.
    let mut pending: VecDeque<(u64, Instant)> = VecDeque::new();
    // The newest TXID whose lag has passed.
    let mut due: Option<u64> = None;
    let mut retry_after: Option<Instant> = None;
    loop {
        let next = pending
            .front()
            .map(|(_, at)| *at)
            .into_iter()
            .chain(retry_after)
            .min();
        pace.wait(next).await;
        let Some((primary, handover_to)) = shared
            .state
            .lock()
            .ok()
            .map(|s| (s.primary.clone(), s.handover_to.clone()))
        else {
            return;
        };
        if let (Some(to), Some(from)) = (handover_to, source.as_mut()) {
            hand_over(&shared, from, &to, &mut replicas).await;
            // The primary may have changed: the next round reads it again (this round's
            // `primary` is the old one, whose copies would give the new primary back the
            // old lineage).
            continue;
        }
        if let Some(from) = source.as_ref().filter(|s| s.name == primary) {
            // The lease taken and given back before the loop looked (a promotion away and
            // back, a restart): the same file, the same tenure.
            if let Ok(mut s) = shared.state.lock()
                && s.tenure.node == from.name
            {
                s.grant(&from.name);
            }
        } else {
            // What the replicas hold relative to the new primary is unknown.
            replicas.values_mut().for_each(Replica::forget);
            replicas.remove(&primary);
            pending.clear();
            due = None;
            let old = source.take().map(|s| s.name).or_else(|| last.take());
            last = Some(primary.clone());
            fail_over(&shared, old.as_deref(), &primary).await;
            let Some(generation) = shared.state.lock().ok().and_then(|s| {
                (s.tenure.node == primary && s.primary == primary).then_some(s.tenure.generation)
            }) else {
                // The primary changed again meanwhile: the next round takes over from here.
                continue;
            };
            let Some(node) = shared.node(&primary) else {
                continue;
            };
            match Snapshot::open(&node.db_path).await {
                Ok(snapshot) => {
                    shared.moved();
                    tracing::debug!(%primary, generation, "emulated replication: new source");
                    source = Some(Source {
                        name: primary.clone(),
                        snapshot,
                        counter: None,
                        looked: false,
                        generation,
                        contained: 0,
                    })
                }
                Err(e) => {
                    tracing::warn!(error = %e, "emulated replication cannot open the primary");
                    continue;
                }
            }
        }
        let Some(from) = source.as_mut() else {
            continue;
        };
        if let Some(txid) = observe(&shared, from) {
            pending.push_back((txid, Instant::now() + lag));
            pace.active();
        }
        let now = Instant::now();
        while let Some((txid, at)) = pending.front().copied() {
            if at > now {
                break;
            }
            due = Some(txid);
            pending.pop_front();
        }
        if let Some(due) = due
            && retry_after.is_none_or(|t| t <= now)
            && behind(&shared, &from.name, from.generation, due)
        {
            let done = copy_round(&shared, from, due, &mut replicas).await;
            retry_after = (!done).then(|| Instant::now() + RETRY);
        }
        // The only place a round ends: every round counted looked at the primary (or
        // switched to a new one) after it began, which is what `after_commit` and
        // `wait_synced` count on. A round ended anywhere else (say, after a failover's
        // drain) would let a position taken before a commit pass for one taken after it.
        shared.round();
    }
}

/// Looks at the primary's change counter; a change gets the next TXID (the first look
/// counts as one: whatever the primary holds must reach the replicas).
fn observe(shared: &Shared, from: &mut Source) -> Option<u64> {
    let node = shared.node(&from.name)?;
    let counter = change_counter(&node.db_path);
    if from.looked && counter == from.counter {
        return None;
    }
    from.looked = true;
    from.counter = counter;
    let txid = {
        let mut s = shared.state.lock().ok()?;
        let t = s.txid.entry(from.name.clone()).or_insert(0);
        *t += 1;
        *t
    };
    let _ = write_pos(&node.dir.join(format!("{}-pos", shared.db_name)), txid);
    shared.moved();
    tracing::trace!(primary = %from.name, txid, "emulated replication: a commit observed");
    Some(txid)
}

/// Whether a connected replica does not hold TXID `due` of lineage `generation` yet (a
/// replica at the same TXID of another lineage holds something else).
fn behind(shared: &Shared, primary: &str, generation: u64, due: u64) -> bool {
    shared.state.lock().is_ok_and(|s| {
        let cut_off = s.cut_off();
        shared.nodes.iter().any(|n| {
            n.name != primary
                && !cut_off.contains(&n.name)
                && (
                    s.lineage.get(&n.name).copied(),
                    s.txid.get(&n.name).copied(),
                ) != (Some(generation), Some(due))
        })
    })
}

/// Reads the primary and brings every connected replica to it at TXID `due`; returns
/// whether every copy succeeded.
async fn copy_round(
    shared: &Shared,
    from: &mut Source,
    due: u64,
    replicas: &mut HashMap<String, Replica>,
) -> bool {
    // A read holds every commit observed before it began: the loop observed the commit's
    // change counter, so the commit had begun writing the file, and the read's SHARED lock
    // waits for it to end. A TXID due now that the last read already holds needs no new
    // read: the replicas holding that read are told they hold the TXID (its data reached
    // them with the read, early, as commits after a due one always did). So the primary's
    // file is read about once per lag while commits keep coming, not once per commit.
    if due > from.contained {
        let observed = shared
            .state
            .lock()
            .ok()
            .and_then(|s| s.txid.get(&from.name).copied())
            .unwrap_or(0);
        if let Err(e) = read_primary(shared, from).await {
            tracing::warn!(error = %e, "emulated replication cannot read the primary; retrying");
            return false;
        }
        from.contained = observed;
    }
    let cut_off: HashSet<String> = shared.reach().map(|(_, c)| c).unwrap_or_default();
    let mut done = true;
    for node in &shared.nodes {
        if node.name == from.name || cut_off.contains(&node.name) {
            continue;
        }
        let replica = match replicas.get_mut(&node.name) {
            Some(r) => r,
            None => match Replica::open(&node.db_path).await {
                Ok(r) => replicas.entry(node.name.clone()).or_insert(r),
                Err(e) => {
                    done = false;
                    tracing::warn!(replica = %node.name, error = %e, "emulated replication cannot open a replica");
                    continue;
                }
            },
        };
        // Asked under the replica's lock: a node promoted meanwhile keeps its own file.
        let still_replica = || {
            shared
                .state
                .lock()
                .is_ok_and(|s| s.primary == from.name && !s.cut_off().contains(&node.name))
        };
        let held = replica.held();
        match replica.copy(&from.snapshot, still_replica).await {
            Ok(true) => {
                tracing::debug!(replica = %node.name, from = %from.name, due, generation = from.generation, ?held, "emulated replication: copied");
                applied(shared, &node.name, due, from.generation)
            }
            Ok(false) => {}
            Err(e) => {
                done = false;
                tracing::warn!(replica = %node.name, error = %e, "emulated replication failed; retrying");
            }
        }
    }
    done
}

/// Reads the primary: the pages its commits wrote since the last read, or the whole file
/// when one of them is unknown (see [`super::commit_log`]).
async fn read_primary(shared: &Shared, from: &mut Source) -> Result<(), CopyError> {
    use std::sync::atomic::Ordering::Relaxed;
    // Before SQLite's lock on the primary is taken: its commits wait while it is held.
    shared.take_in_reports(&from.name);
    let read = from
        .snapshot
        .refresh(|last, now| shared.changes(&from.name, last, now))
        .await?;
    shared.primary_reads.fetch_add(1, Relaxed);
    tracing::trace!(primary = %from.name, ?read, "emulated replication: read the primary");
    if read == Read::Whole {
        shared.whole_reads.fetch_add(1, Relaxed);
    }
    Ok(())
}

/// Records that `node` holds TXID `due` (which can be lower than before: a failover resets
/// replicas to the new primary's position, as LiteFS's snapshots do) and announces it.
fn applied(shared: &Shared, node: &str, due: u64, generation: u64) {
    let (changed, moved) = shared
        .state
        .lock()
        .map(|mut s| {
            let moved = s.lineage.insert(node.to_owned(), generation) != Some(generation);
            (s.txid.insert(node.to_owned(), due) != Some(due), moved)
        })
        .unwrap_or((false, false));
    if changed || moved {
        shared.moved();
    }
    if !changed {
        return;
    }
    if let Some(n) = shared.node(node) {
        let _ = write_pos(&n.dir.join(format!("{}-pos", shared.db_name)), due);
    }
    let checksum = due.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let line = serde_json::json!({
        "type": "tx",
        "db": shared.db_name,
        "data": {"txID": format!("{due:016x}"), "postApplyChecksum": format!("{checksum:016x}"), "pageSize": 4096, "commit": 0, "timestamp": ""},
    });
    let _ = shared
        .events
        .send((Some(node.to_owned()), line.to_string()));
}

/// An abrupt failover from `old` to `new` (already fenced: nobody holds the lease): waits
/// for a commit `old` let through before the fence to end, then begins `new`'s tenure and
/// grants it the lease (once restarted, if it is stopped). `new` keeps its own position;
/// what `old` had not replicated is lost.
async fn fail_over(shared: &Shared, old: Option<&str>, new: &str) {
    if let Some(node) = old.filter(|o| *o != new).and_then(|o| shared.node(o)) {
        drain(&node.db_path).await;
    }
    if let Ok(mut s) = shared.state.lock()
        && s.primary == new
        && s.handover_to.is_none()
    {
        s.begin_tenure(new);
        s.grant(new);
    }
    tracing::debug!(?old, new, "emulated failover: drained, new tenure");
}

/// A graceful handover from the current primary to `to` (the primary already fenced):
/// its last commit ends, `to` receives everything it committed, then takes the lease.
async fn hand_over(
    shared: &Shared,
    from: &mut Source,
    to: &str,
    replicas: &mut HashMap<String, Replica>,
) {
    let Some(old) = shared.node(&from.name) else {
        return;
    };
    drain(&old.db_path).await;
    let txid = observe(shared, from).or_else(|| {
        shared
            .state
            .lock()
            .ok()
            .and_then(|s| s.txid.get(&from.name).copied())
    });
    let Some(txid) = txid else {
        return;
    };
    let copied = match read_primary(shared, from).await {
        Ok(_) => match replicas.get_mut(to) {
            Some(replica) => replica.copy(&from.snapshot, || true).await,
            None => match shared.node(to) {
                Some(node) => match Replica::open(&node.db_path).await {
                    Ok(mut replica) => replica.copy(&from.snapshot, || true).await,
                    Err(e) => Err(e),
                },
                None => return,
            },
        },
        Err(e) => Err(e),
    };
    if let Err(e) = copied {
        tracing::warn!(to, error = %e, "emulated handover: copy failed; retrying");
        return;
    }
    applied(shared, to, txid, from.generation);
    if let Ok(mut s) = shared.state.lock() {
        s.primary = to.to_owned();
        s.handover_to = None;
        s.begin_tenure(to);
        s.lease = Some(to.to_owned());
    }
    let _ = shared.write_files();
    shared.announce(to);
}

/// Waits (bounded) until no write transaction is open on the file at `path`: SQLite's
/// RESERVED lock is free once a commit that was under way has ended.
async fn drain(path: &Path) {
    let url = format!("sqlite://{}?mode=rw", path.display());
    let options = match url.parse::<SqliteConnectOptions>() {
        Ok(o) => o.busy_timeout(DRAIN),
        Err(_) => return,
    };
    let result = async {
        let mut conn = options.connect().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await?;
        sqlx::query("ROLLBACK").execute(&mut conn).await?;
        Ok::<(), sqlx::Error>(())
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "emulated failover: the old primary's last commit did not end in time");
    }
}
