//! The integration suite on real LiteFS under FUSE: three `litefs mount` processes on
//! 127.0.0.1 with a static lease (node-1 primary), the repository stack on each node.
//! What is LiteFS's own here (its refusal of a local write, read-your-writes by TXID alone,
//! trackers following LiteFS, the halt lock); the write script, exactly-once faults and
//! the rest run on LiteFS as on the other backends in the shared suite (`suite_*.rs`). Skips with a message when LiteFS or FUSE is missing,
//! unless `CI_REQUIRE_LITEFS` is set (`.ci/run` sets it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use blog_example::entities::{post, tag};
use repo_litefs::position::read_txid;
use repo_litefs::tracker::{PrimaryState, PrimaryTracker, Role};
use repo_tests::real_litefs::{DB, HaltLock, LiteFsCluster, Stacks, WaitFor};
use repo_tests::transaction_script::{assert_script_ran, script, tables};
use repo_tests::write_script::{new_tag, twin};
use sea_orm::{ConnectionTrait, Database, DbBackend, EntityTrait, PaginatorTrait, Statement};

const NAMES: [&str; 3] = ["node-1", "node-2", "node-3"];

async fn tags_on(db: &impl ConnectionTrait) -> u64 {
    tag::Entity::find().count(db).await.expect("count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_a_replica_without_the_repository_fails_with_litefs_error() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    let direct = Database::connect(format!(
        "sqlite://{}?mode=rw",
        cluster.nodes[1].db_path(DB).display()
    ))
    .await
    .expect("open the replica's file");
    let mode = direct
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await
        .expect("journal mode")
        .expect("a row")
        .try_get_by_index::<String>(0)
        .expect("text");
    assert_eq!(mode, "wal", "replicated from the primary");
    let err = direct
        .execute_unprepared("INSERT INTO tags (name) VALUES ('direct')")
        .await
        .expect_err("LiteFS refuses writes on a replica");
    assert!(
        err.to_string().contains("disk I/O error"),
        "LiteFS's refusal in WAL mode (EACCES from its FUSE layer): {err}"
    );
    assert_eq!(tags_on(&stacks.node("node-1").db).await, 0);
    assert_eq!(tags_on(&direct).await, 0);
    direct.close().await.expect("close");
    stacks.close().await;
    cluster.shutdown().await;
}

/// Waits (10 s at most) until `read` (replica `name`'s contents) equals the primary's.
async fn catch_up<T, F, Fut>(name: &str, primary: &T, read: F)
where
    T: PartialEq,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let until = Instant::now() + Duration::from_secs(10);
    while read().await != *primary {
        assert!(
            Instant::now() < until,
            "{name} did not catch up through LiteFS"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_forwarded_writes_are_each_read_back_by_txid() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    // Only LiteFS's TXID can end each wait (the ledger probe looks at an empty decoy), and a
    // wait that does not end is an error (`OnLag::Fail`).
    let stacks = Stacks::start_waiting_for(&cluster, WaitFor::TxidOnly).await;
    let mut misses = 0;
    let started = Instant::now();
    for i in 0..1000 {
        let replica = &stacks.node(NAMES[1 + i % 2]).repo;
        let written = replica
            .insert(new_tag(&format!("ryw-{i}")))
            .await
            .expect("write, and the replica's TXID caught up");
        if replica.get::<tag::Entity>(written.id).await.expect("read") != Some(written) {
            misses += 1;
        }
    }
    eprintln!(
        "1000 forwarded writes with read-back: {:?}",
        started.elapsed()
    );
    assert_eq!(misses, 0, "read-your-writes misses");
    assert_eq!(tags_on(&stacks.node("node-1").db).await, 1000);
    stacks.close().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sea_orm_transactions_from_each_replica_match_a_twin_primary() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    let (_dir, twin) = twin().await;
    for name in ["node-2", "node-3"] {
        let replica = stacks.node(name);
        // Each run starts from empty tables, on both sides alike.
        for repo in [&replica.repo, &twin] {
            post::Entity::delete_many()
                .exec(repo)
                .await
                .expect("clear posts");
            tag::Entity::delete_many()
                .exec(repo)
                .await
                .expect("clear tags");
        }
        let local = script(&twin).await;
        let remote = script(&replica.repo).await;
        assert_eq!(remote, local, "{name}: same results and errors");
        let primary = tables(&stacks.node("node-1").db).await;
        assert_eq!(
            primary,
            tables(twin.connection()).await,
            "{name}: same tables"
        );
        assert_script_ran(&primary);
        assert_eq!(replica.executed.count(), 0, "{name}'s executor never ran");
        catch_up(name, &primary, || tables(&replica.db)).await;
    }
    stacks.close().await;
    cluster.shutdown().await;
}

/// What a tracker on `node` reports when `primary` holds the lease.
fn expected(node: &str, primary: &str) -> PrimaryState {
    let role = if node == primary {
        Role::Primary
    } else {
        Role::Replica
    };
    PrimaryState {
        role,
        primary: Some(primary.to_owned()),
    }
}

async fn settle(tracker: &PrimaryTracker, want: &PrimaryState) {
    let until = Instant::now() + Duration::from_secs(20);
    while tracker.current() != *want {
        assert!(
            Instant::now() < until,
            "the tracker reports {:?}, not {want:?}",
            tracker.current()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The TXID in a node's `<db>-pos`.
async fn txid(cluster: &LiteFsCluster, node: usize) -> u64 {
    let pos = cluster.nodes[node].mount.join(format!("{DB}-pos"));
    read_txid(&pos).await.unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trackers_follow_litefs_and_writes_follow_a_restarted_primary() {
    let Some(mut cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    // Trackers of their own, living across the restart, fed by each node's /info and /events
    // (that they parse the real /events stream: real_litefs_events.rs).
    let trackers = cluster.trackers();
    for (tracker, name) in trackers.iter().zip(NAMES) {
        settle(tracker, &expected(name, "node-1")).await;
    }
    let stacks = Stacks::start(&cluster).await;
    stacks
        .node("node-3")
        .repo
        .insert(new_tag("before"))
        .await
        .expect("forwarded to node-1");
    assert_eq!(tags_on(&stacks.node("node-1").db).await, 1);
    stacks.close().await;

    // node-2 must hold everything before it becomes primary, or the restart would drop it.
    assert!(
        txid(&cluster, 0).await > 0,
        "the primary's <db>-pos is readable"
    );
    let until = Instant::now() + Duration::from_secs(10);
    while txid(&cluster, 1).await < txid(&cluster, 0).await {
        assert!(
            Instant::now() < until,
            "node-2 did not catch up before the restart"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster
        .restart_with_primary(1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for (tracker, name) in trackers.iter().zip(NAMES) {
        settle(tracker, &expected(name, "node-2")).await;
    }
    let stacks = Stacks::start(&cluster).await;
    for name in ["node-1", "node-3"] {
        let replica = stacks.node(name);
        let written = replica
            .repo
            .insert(new_tag(&format!("after-{name}")))
            .await
            .expect("forwarded to node-2");
        assert_eq!(
            replica
                .repo
                .get::<tag::Entity>(written.id)
                .await
                .expect("read"),
            Some(written),
            "read back on {name}"
        );
        assert_eq!(replica.executed.count(), 0, "{name}'s executor never ran");
    }
    let names: Vec<String> = tag::Entity::find()
        .all(&stacks.node("node-2").db)
        .await
        .expect("tags")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["before", "after-node-1", "after-node-3"]);
    stacks.close().await;
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_holding_the_halt_lock_writes_its_own_file() {
    let Some(cluster) = LiteFsCluster::start_or_skip(&NAMES).await else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    let replica = &cluster.nodes[2];
    let direct = Database::connect(format!(
        "sqlite://{}?mode=rw",
        replica.db_path(DB).display()
    ))
    .await
    .expect("open");
    let lock = Arc::new(HaltLock::open(&replica.mount, DB).expect("lock file"));
    lock.acquire_within(Duration::from_secs(30))
        .await
        .expect("halt");
    direct
        .execute_unprepared("INSERT INTO tags (name) VALUES ('halted')")
        .await
        .expect("a write under the HALT lock");
    lock.release().expect("release");
    assert_eq!(tags_on(&direct).await, 1, "on the replica at once");
    assert_eq!(
        tags_on(&stacks.node("node-1").db).await,
        1,
        "shipped to the primary"
    );
    direct.close().await.expect("close");
    stacks.close().await;
    cluster.shutdown().await;
}
