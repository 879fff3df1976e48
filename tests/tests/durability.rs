//! `Durability::Candidates` on the emulator: a write is answered only once every lease
//! candidate holds it, through a replica and on the primary, per call and as the node's
//! default; when a candidate cannot get it in time the call says "committed on the primary,
//! not yet replicated"; a node without durability settings refuses it before writing.

use std::time::Duration;

use repo_core::{CommitState, Durability, RepoError};
use repo_tests::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};
use repo_tests::history_row;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set,
    Statement,
};

async fn start(durability: Durability) -> EmulatedCluster {
    EmulatedCluster::start(ClusterSpec {
        nodes: 3,
        lag: Duration::from_millis(30),
        durability,
        schema: Schema::Plain,
    })
    .await
}

fn row(key: &str) -> history_row::ActiveModel {
    history_row::ActiveModel {
        key: Set(key.to_owned()),
        ..Default::default()
    }
}

/// How many rows with `key` node `name`'s file holds now.
async fn rows_on(cluster: &EmulatedCluster, name: &str, key: &str) -> u64 {
    history_row::Entity::find()
        .filter(history_row::Column::Key.eq(key))
        .count(&cluster.open(name).await)
        .await
        .expect("count")
}

fn assert_not_replicated<T: std::fmt::Debug>(result: Result<T, RepoError>, missing: &str) {
    match result {
        Err(e @ RepoError::NotReplicated { .. }) => {
            assert_eq!(e.commit_state(), CommitState::Committed, "{e}");
            assert!(!e.is_transient(), "{e}");
            assert!(e.to_string().contains(missing), "{e}");
        }
        other => panic!("expected NotReplicated naming {missing}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidates_write_is_answered_once_every_candidate_holds_it() {
    let cluster = start(Durability::Primary).await;
    for (writer, key) in [("node-2", "forwarded"), ("node-1", "local")] {
        cluster
            .node(writer)
            .repo()
            .insert(row(key))
            .durability(Durability::Candidates)
            .timeout(Duration::from_secs(3))
            .await
            .expect("acknowledged");
        // On return, every node already holds it: no waiting here.
        for name in ["node-1", "node-2", "node-3"] {
            assert_eq!(rows_on(&cluster, name, key).await, 1, "{key} on {name}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_candidate_that_cannot_get_the_write_makes_it_committed_not_replicated() {
    let cluster = start(Durability::Primary).await;
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    cluster.emulator.partition("node-3");
    for (writer, key) in [("node-2", "forwarded"), ("node-1", "local")] {
        let result = cluster
            .node(writer)
            .repo()
            .insert(row(key))
            .durability(Durability::Candidates)
            .timeout(Duration::from_millis(800))
            .await;
        assert_not_replicated(result, "node-3");
        assert_eq!(rows_on(&cluster, "node-1", key).await, 1, "committed");
        assert_eq!(rows_on(&cluster, "node-3", key).await, 0);
    }
    // Durability::Primary does not wait for node-3.
    cluster
        .node("node-2")
        .repo()
        .insert(row("primary"))
        .timeout(Duration::from_secs(3))
        .await
        .expect("acknowledged once committed");
    assert_eq!(rows_on(&cluster, "node-3", "primary").await, 0);

    cluster.emulator.heal("node-3");
    cluster
        .node("node-2")
        .repo()
        .insert(row("healed"))
        .durability(Durability::Candidates)
        .timeout(Duration::from_secs(3))
        .await
        .expect("acknowledged after healing");
    for key in ["forwarded", "local", "primary", "healed"] {
        assert_eq!(rows_on(&cluster, "node-3", key).await, 1, "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_default_applies_and_a_call_can_override_it() {
    let cluster = start(Durability::Candidates).await;
    assert!(cluster.emulator.wait_synced(Duration::from_secs(10)).await);
    cluster.emulator.partition("node-3");
    let defaulted = cluster
        .node("node-2")
        .repo()
        .insert(row("default"))
        .timeout(Duration::from_millis(800))
        .await;
    assert_not_replicated(defaulted, "node-3");
    cluster
        .node("node-2")
        .repo()
        .insert(row("chosen"))
        .durability(Durability::Primary)
        .timeout(Duration::from_secs(3))
        .await
        .expect("this call asked for Primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_durability_settings_refuses_candidates_before_writing() {
    let cluster = repo_tests::cluster::Cluster::start(1).await;
    let result = cluster
        .replica(1)
        .repo
        .insert(blog_example::entities::tag::ActiveModel {
            name: Set("durable".to_owned()),
            ..Default::default()
        })
        .durability(Durability::Candidates)
        .await;
    match result {
        Err(e @ RepoError::Rejected { .. }) => {
            assert_eq!(e.commit_state(), CommitState::NotCommitted);
            assert!(e.to_string().contains("Durability::Candidates"), "{e}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let tags = blog_example::entities::tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(tags, 0, "nothing was written");
}

/// An emulator of three nodes (node-1 primary) without lag, in `dir`.
async fn three_nodes(dir: &tempfile::TempDir) -> repo_litefs::emulator::LiteFsEmulator {
    repo_litefs::emulator::LiteFsEmulator::start(
        dir.path(),
        &["node-1", "node-2", "node-3"],
        "app.db",
        Duration::ZERO,
    )
    .await
    .expect("emulator")
}

/// Rows in table `t` of `name`'s file now.
async fn count_t(emulator: &repo_litefs::emulator::LiteFsEmulator, name: &str) -> i64 {
    let path = &emulator.node(name).expect("node").db_path;
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", path.display()))
        .await
        .expect("open");
    db.query_one_raw(Statement::from_string(
        DbBackend::Sqlite,
        "SELECT COUNT(*) FROM t",
    ))
    .await
    .ok()
    .flatten()
    .and_then(|row| row.try_get_by_index::<i64>(0).ok())
    .unwrap_or(-1)
}

/// The race behind lost `Candidates` writes (seen under load in the Jepsen test): the
/// primary commits while the replication loop is busy with an older change, then loses the
/// lease before the loop looks at it again. Asked for its position after that commit, the
/// old primary must not name a position a replica lacking the commit already holds (the
/// write would be answered as held by every candidate, then lost with the failover).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_asked_after_a_commit_includes_it_even_across_a_promotion() {
    use sea_orm::sqlx::{Connection, SqliteConnection};

    let dir = tempfile::tempdir().expect("dir");
    let emulator = three_nodes(&dir).await;
    let path = |name: &str| emulator.node(name).expect("node").db_path.clone();
    let primary =
        sea_orm::Database::connect(format!("sqlite://{}?mode=rw", path("node-1").display()))
            .await
            .expect("primary");
    primary
        .execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .await
        .expect("table");
    assert!(emulator.wait_synced(Duration::from_secs(10)).await);

    // node-3's file held by a reader: the loop's next copy (node-2 first, then node-3)
    // stops at node-3 until the reader lets go.
    let mut reader =
        SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path("node-3").display()))
            .await
            .expect("reader");
    sea_orm::sqlx::query("BEGIN")
        .execute(&mut reader)
        .await
        .expect("begin");
    sea_orm::sqlx::query("SELECT COUNT(*) FROM t")
        .fetch_one(&mut reader)
        .await
        .expect("read");
    primary
        .execute_unprepared("INSERT INTO t (v) VALUES ('first')")
        .await
        .expect("first");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while count_t(&emulator, "node-2").await != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node-2 never got the first row"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let before = emulator.position("node-2").expect("node-2's position");

    // The loop is now waiting on node-3: a commit it has not looked at, asked about at
    // once, then the lease moves to node-2 (which lacks it).
    primary
        .execute_unprepared("INSERT INTO t (v) VALUES ('second')")
        .await
        .expect("second");
    let source = emulator.position_source("node-1");
    let mut asked = Box::pin(source.after_commit(tokio::time::Instant::now()));
    assert!(futures::poll!(&mut asked).is_pending());
    emulator.promote("node-2").expect("promote");
    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut reader)
        .await
        .expect("release node-3");
    let asked = tokio::time::timeout(Duration::from_secs(10), asked)
        .await
        .expect("an answer");
    assert_eq!(
        count_t(&emulator, "node-2").await,
        1,
        "node-2 lacks 'second'"
    );
    assert!(
        asked.is_none_or(|p| !before.holds(p)),
        "the old primary named {asked:?} for a commit node-2 never got, and node-2 was at \
         {before:?}"
    );
    // Whichever replica comes to hold the position named holds the commit too.
    if let Some(named) = asked {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        while tokio::time::Instant::now() < deadline {
            for name in ["node-1", "node-3"] {
                if emulator.position(name).is_some_and(|p| p.holds(named)) {
                    assert_eq!(
                        count_t(&emulator, name).await,
                        2,
                        "{name} holds {named:?}, the position named for 'second', without it"
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A write that began before its node's current tenure as primary may have committed in an
/// earlier one (whose unreplicated tail the failover discarded): the node cannot vouch for
/// it, even though it is the primary again when asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_begun_before_the_current_tenure_gets_no_position() {
    let dir = tempfile::tempdir().expect("dir");
    let emulator = three_nodes(&dir).await;
    let source = emulator.position_source("node-1");
    let began = tokio::time::Instant::now();
    assert!(
        source.after_commit(began).await.is_some(),
        "the primary vouches for a write begun in its tenure"
    );
    for name in ["node-2", "node-1"] {
        emulator.promote(name).expect("promote");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !emulator.may_commit(name) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never took the lease"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if name == "node-2" {
            assert_eq!(
                source.after_commit(tokio::time::Instant::now()).await,
                None,
                "a node that is not the primary vouches for nothing"
            );
        }
    }
    assert_eq!(
        source.after_commit(began).await,
        None,
        "node-1 is the primary again, in a tenure begun after the write"
    );
    assert!(
        source
            .after_commit(tokio::time::Instant::now())
            .await
            .is_some()
    );
}
