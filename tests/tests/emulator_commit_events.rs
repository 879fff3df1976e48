//! The emulator sees a commit when it ends, from any process: the kernel's event about the
//! rollback journal closing and going away wakes its replication loop, so a commit from a
//! connection it has no commit guard in (the local cluster's node processes, a script)
//! reaches the replicas without waiting for a periodic look.

use std::time::Duration;

use repo_litefs::emulator::LiteFsEmulator;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

async fn count(db: &DatabaseConnection) -> Option<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT count(*) FROM notes",
        ))
        .await
        .ok()??;
    row.try_get_by_index(0).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unguarded_commit_replicates_without_a_periodic_look() {
    let dir = tempfile::tempdir().expect("dir");
    let emulator =
        LiteFsEmulator::start(dir.path(), &["node-1", "node-2"], "app.db", Duration::ZERO)
            .await
            .expect("emulator");
    let url = |name: &str| {
        let path = &emulator.node(name).expect("node").db_path;
        format!("sqlite://{}?mode=rw", path.display())
    };
    let primary = Database::connect(url("node-1")).await.expect("primary");
    primary
        .execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .await
        .expect("schema");
    assert!(
        emulator.wait_synced(Duration::from_secs(10)).await,
        "the schema replicates"
    );
    // From now on an idle primary is looked at once an hour: only an event can wake the
    // loop. Wait for it to be idle (it polls every millisecond for 250 ms after a change).
    emulator.set_idle_look(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_secs(1)).await;
    emulator.wake();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // A commit on a plain connection: no commit guard, no wake from the library.
    primary
        .execute_unprepared("INSERT INTO notes (body) VALUES ('seen at its end')")
        .await
        .expect("insert");
    let replica = Database::connect(url("node-2")).await.expect("replica");
    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
        while count(&replica).await != Some(1) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        arrived.is_ok(),
        "the commit never reached the replica: its end woke nothing"
    );
}

/// Commits that come while an earlier one waits out its lag are in the read made for the
/// earlier one: their turn comes without reading the primary's whole file again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_within_one_lag_share_one_read_of_the_primary() {
    let dir = tempfile::tempdir().expect("dir");
    let emulator = LiteFsEmulator::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        "app.db",
        Duration::from_secs(2),
    )
    .await
    .expect("emulator");
    let path = &emulator.node("node-1").expect("node").db_path;
    let primary = Database::connect(format!("sqlite://{}?mode=rw", path.display()))
        .await
        .expect("primary");
    primary
        .execute_unprepared("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .await
        .expect("schema");
    assert!(emulator.wait_synced(Duration::from_secs(20)).await);
    let txid = || emulator.position("node-1").map_or(0, |p| p.txid);
    let (reads, first) = (emulator.primary_reads(), txid());
    // Twenty commits 20 ms apart: all observed (each its own TXID, mostly) well within the
    // first one's 2 s of lag.
    for i in 0..20 {
        primary
            .execute_unprepared(&format!("INSERT INTO notes (body) VALUES ('note {i}')"))
            .await
            .expect("insert");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(emulator.wait_synced(Duration::from_secs(20)).await);
    let txids = txid() - first;
    let reads = emulator.primary_reads() - reads;
    assert!(txids >= 5, "the commits were observed apart: {txids} TXIDs");
    // All were observed before the first one's lag ended: its read holds them all (a
    // second read only if the machine stalled for most of the 2 s).
    assert!(
        reads <= 2,
        "{reads} reads of the primary for {txids} TXIDs: about one read per TXID"
    );
}
