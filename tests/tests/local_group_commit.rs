//! The primary's own writes share commits (issue 17): single statements that reach the
//! executor together are committed together, with the forwarded ones in the same queue,
//! and each keeps exactly the result and the error it would have had alone.

use std::sync::OnceLock;

use blog_example::entities::tag;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use proptest::prelude::*;
use repo_core::{Repo, RepoError};
use repo_tests::cluster::Cluster;
use repo_tests::db;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, Set};

/// The process's metrics, recorded for this test binary.
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this binary");
        snapshotter
    })
}

/// Every group size recorded since the last call.
fn group_sizes() -> Vec<f64> {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "repo_group_commit_size")
        .flat_map(|(.., value)| match value {
            DebugValue::Histogram(values) => values.into_iter().map(|v| v.0).collect(),
            _ => Vec::new(),
        })
        .collect()
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_primarys_own_concurrent_writes_share_commits() {
    let _ = group_sizes();
    let db = db::fresh().await;
    let repo = Repo::new(db.conn.clone());
    let writes: Vec<_> = (0..64)
        .map(|i| {
            let repo = repo.clone();
            tokio::spawn(async move { repo.insert(new_tag(&format!("t{i}"))).await })
        })
        .collect();
    for write in writes {
        write.await.expect("join").expect("insert");
    }
    assert_eq!(
        tag::Entity::find().count(&db.conn).await.expect("count"),
        64
    );
    let sizes = group_sizes();
    assert!(
        sizes.iter().any(|&size| size > 1.0),
        "64 concurrent local inserts never shared a commit: group sizes {sizes:?}"
    );
}

/// What one write of a generated workload is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A new, unique tag: succeeds.
    Fresh,
    /// The name of a tag stored before the workload: a unique violation.
    Taken,
    /// A NULL name through raw SQL: a NOT NULL violation.
    Null,
    /// An update that matches no row: succeeds, touching nothing.
    Nothing,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        4 => Just(Kind::Fresh),
        2 => Just(Kind::Taken),
        1 => Just(Kind::Null),
        1 => Just(Kind::Nothing),
    ]
}

/// Runs write `i` of kind `kind` on `repo`: the error's text, or `None` when it succeeded.
async fn run(repo: &Repo, i: usize, kind: Kind) -> Option<String> {
    let result: Result<(), RepoError> = match kind {
        Kind::Fresh => repo.insert(new_tag(&format!("fresh-{i}"))).await.map(drop),
        Kind::Taken => repo.insert(new_tag("taken")).await.map(drop),
        Kind::Null => repo
            .execute_unprepared("INSERT INTO tags (name) VALUES (NULL)")
            .await
            .map(drop)
            .map_err(RepoError::from),
        Kind::Nothing => repo
            .execute_unprepared("UPDATE tags SET name = 'x' WHERE id < 0")
            .await
            .map(drop)
            .map_err(RepoError::from),
    };
    result.err().map(|e| e.to_string())
}

async fn names(repo: &Repo) -> Vec<String> {
    tag::Entity::find()
        .order_by_asc(tag::Column::Name)
        .all(repo.connection())
        .await
        .expect("read")
        .into_iter()
        .map(|t| t.name)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Run concurrently (so in shared commits), every write gets what it gets run alone,
    /// one after the other, on a twin database, and the tables end up the same.
    #[test]
    fn a_failing_write_never_changes_anothers_outcome(kinds in prop::collection::vec(kind(), 2..48)) {
        let runtime = repo_tests::runtime();
        runtime.block_on(async {
            let (together, alone) = db::twins().await;
            let (together, alone) = (Repo::new(together.conn.clone()), Repo::new(alone.conn.clone()));
            for repo in [&together, &alone] {
                repo.insert(new_tag("taken")).await.expect("seed");
            }
            let tasks: Vec<_> = kinds
                .iter()
                .enumerate()
                .map(|(i, &kind)| {
                    let repo = together.clone();
                    tokio::spawn(async move { run(&repo, i, kind).await })
                })
                .collect();
            let mut concurrent = Vec::new();
            for task in tasks {
                concurrent.push(task.await.expect("join"));
            }
            let mut serial = Vec::new();
            for (i, &kind) in kinds.iter().enumerate() {
                serial.push(run(&alone, i, kind).await);
            }
            assert_eq!(concurrent, serial, "kinds {kinds:?}");
            assert_eq!(names(&together).await, names(&alone).await);
        });
    }
}

#[tokio::test]
async fn local_and_forwarded_writes_commit_together_each_exactly_once() {
    let cluster = Cluster::start(1).await;
    let primary = cluster.primary().repo.clone();
    let replica = cluster.replica(1).repo.clone();
    // The same 32 names from both sides: each name is stored once, and each write either
    // succeeds or fails with the unique violation, wherever it ran.
    let writes: Vec<_> = (0..64)
        .map(|i| {
            let repo = if i % 2 == 0 {
                primary.clone()
            } else {
                replica.clone()
            };
            let forwarded = i % 2 == 1;
            tokio::spawn(async move {
                (
                    forwarded,
                    repo.insert(new_tag(&format!("n{}", i / 2))).await,
                )
            })
        })
        .collect();
    let mut stored = 0;
    let mut forwarded_stored = 0;
    for write in writes {
        let (forwarded, result) = write.await.expect("join");
        match result {
            Ok(_) => {
                stored += 1;
                forwarded_stored += usize::from(forwarded);
            }
            Err(e) => assert!(
                matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ),
                "{e:?}"
            ),
        }
    }
    assert_eq!(stored, 32, "one write per name succeeded");
    let rows = tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(rows, 32);
    // Each forwarded write that committed has its ledger row (one insert per group holds
    // them all); the primary's own writes have none.
    let ledger = ledger_rows(&cluster.primary().db).await;
    assert_eq!(ledger, forwarded_stored);
}

/// The rows of the primary's ledger.
async fn ledger_rows(db: &sea_orm::DatabaseConnection) -> usize {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM litefs_ledger",
        ))
        .await
        .expect("count the ledger")
        .expect("a row");
    let n: i64 = row.try_get("", "n").expect("n");
    usize::try_from(n).expect("a count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_writes_committed_together_each_keep_their_ledger_row() {
    let _ = group_sizes();
    let cluster = Cluster::start(1).await;
    let replica = cluster.replica(1).repo.clone();
    let writes: Vec<_> = (0..64)
        .map(|i| {
            let repo = replica.clone();
            tokio::spawn(async move { repo.insert(new_tag(&format!("f{i}"))).await })
        })
        .collect();
    for write in writes {
        write.await.expect("join").expect("forwarded insert");
    }
    assert!(
        group_sizes().iter().any(|&size| size > 1.0),
        "64 concurrent forwarded inserts never shared a commit"
    );
    // One ledger insert per group holds every member's row: a retry of any of them is
    // answered from the ledger, never run again.
    assert_eq!(ledger_rows(&cluster.primary().db).await, 64);
}
