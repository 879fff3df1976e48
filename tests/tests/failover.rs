//! Failover under a steady write load from two replicas: every acknowledged write is on the
//! new primary exactly once, the demoted primary applies nothing after its demotion, and
//! callers see only typed errors, within their deadlines.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use blog_example::entities::{comment, post};
use repo_core::Repo;
use repo_litefs::emulator::Replicator;
use repo_litefs::tracker::PrimaryState;
use repo_middleware::{RetryConfig, RetryLayer};
use repo_tests::cluster::Cluster;
use sea_orm::{EntityTrait, PaginatorTrait, Set};

fn comment_on(post_id: i32, body: String) -> comment::ActiveModel {
    comment::ActiveModel {
        post_id: Set(post_id),
        author: Set("load".into()),
        body: Set(body),
        created_at: Set(chrono::NaiveDateTime::default()),
        ..Default::default()
    }
}

/// Writes `count` comments from `repo`, each retried on transient errors; returns the
/// acknowledged bodies and the error kinds seen.
async fn write_load(
    repo: Repo,
    writer: &str,
    post_id: i32,
    count: usize,
) -> (Vec<String>, HashMap<&'static str, usize>) {
    let retry = RetryLayer::new(
        RetryConfig::default()
            .max_attempts(20)
            .backoff(Duration::from_millis(5), Duration::from_millis(50))
            .budget(Duration::from_secs(10), 1000, 10.0),
    );
    let mut acked = Vec::new();
    let mut errors = HashMap::new();
    for i in 0..count {
        let body = format!("{writer}-{i}");
        match repo
            .insert(comment_on(post_id, body.clone()))
            .layer(retry.clone())
            .timeout(Duration::from_secs(10))
            .await
        {
            Ok(_) => acked.push(body),
            Err(e) => *errors.entry(e.kind()).or_default() += 1,
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    (acked, errors)
}

/// Waits (bounded) until no write transaction is open on the SQLite file at `path`.
async fn drain(path: &std::path::Path) {
    use sea_orm::sqlx::sqlite::SqliteConnectOptions;
    use sea_orm::sqlx::{ConnectOptions, Connection};
    let options = SqliteConnectOptions::new()
        .filename(path)
        .busy_timeout(Duration::from_secs(5));
    let mut conn = options.connect().await.expect("open node-1's file");
    sea_orm::sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .expect("node-1's last commit ended");
    sea_orm::sqlx::query("ROLLBACK")
        .execute(&mut conn)
        .await
        .expect("rollback");
    conn.close().await.expect("close");
}

async fn bodies(db: &sea_orm::DatabaseConnection) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for c in comment::Entity::find().all(db).await.expect("comments") {
        *counts.entry(c.body).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_during_load_loses_and_duplicates_nothing_acknowledged() {
    fail_over_under_load(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_primary_loses_nothing_acknowledged() {
    fail_over_under_load(true).await;
}

/// Fails over from node-1 to node-2 while node-2 and node-3 write: by demotion, or by
/// killing node-1's server outright (`kill`).
async fn fail_over_under_load(kill: bool) {
    // node-1 primary; node-2 a writable standby; node-3 a read-only replica.
    let mut cluster = Cluster::start_with(2, 1).await;
    let seed = cluster.primary().repo.insert(post::ActiveModel {
        title: Set("load".into()),
        slug: Set("load".into()),
        body: Set("b".into()),
        ..Default::default()
    });
    let post_id = seed.await.expect("seed post").id;
    let lag = Duration::from_millis(2);
    let first = Replicator::start(
        &cluster.path(0),
        vec![
            ("node-2".into(), cluster.path(1)),
            ("node-3".into(), cluster.path(2)),
        ],
        lag,
    )
    .await
    .expect("replicator");
    assert!(first.wait_synced(Duration::from_secs(5)).await);

    let writers: Vec<_> = [1usize, 2]
        .into_iter()
        .map(|i| {
            let repo = cluster.nodes[i].repo.clone();
            let name = cluster.nodes[i].name.clone();
            tokio::spawn(async move { write_load(repo, &name, post_id, 150).await })
        })
        .collect();

    // Let the load run, then fail over: demote node-1, let node-2 catch up, promote it.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let started = Instant::now();
    if kill {
        cluster.nodes[0].kill_server();
    }
    cluster.nodes[0].tracker.set(PrimaryState::replica(None));
    // A graceful handover: demoted, node-1 starts no write; one that passed its last role
    // check before the demotion is committing, and holds the file's RESERVED lock until it
    // ends. Only then is node-1's file final, and the standby caught up with it.
    drain(&cluster.path(0)).await;
    assert!(
        first.wait_synced(Duration::from_secs(5)).await,
        "the standby caught up"
    );
    let old_primary_rows = comment::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    drop(first);
    cluster.set_primary("node-2");
    let second = Replicator::start(
        &cluster.path(1),
        vec![("node-3".into(), cluster.path(2))],
        lag,
    )
    .await
    .expect("replicator");
    let promoted_after = started.elapsed();

    let mut acked = Vec::new();
    let mut errors: HashMap<&'static str, usize> = HashMap::new();
    for w in writers {
        let (a, e) = w.await.expect("writer finished, no panic");
        acked.extend(a);
        for (k, n) in e {
            *errors.entry(k).or_default() += n;
        }
    }
    assert!(second.wait_synced(Duration::from_secs(5)).await);

    let on_new_primary = bodies(&cluster.nodes[1].db).await;
    let lost: Vec<&String> = acked
        .iter()
        .filter(|b| on_new_primary.get(*b).copied().unwrap_or(0) == 0)
        .collect();
    let duplicated: Vec<(&String, &usize)> =
        on_new_primary.iter().filter(|(_, n)| **n > 1).collect();
    println!(
        "failover (kill: {kill}): {} acknowledged of 300, {} lost, {} duplicated, errors {:?}, promoted {:?} after demotion",
        acked.len(),
        lost.len(),
        duplicated.len(),
        errors,
        promoted_after
    );
    let on_old_primary = bodies(&cluster.nodes[0].db).await;
    assert!(
        lost.is_empty(),
        "acknowledged writes lost: {lost:?} (on the old primary: {:?})",
        lost.iter()
            .map(|b| on_old_primary.get(*b).copied().unwrap_or(0))
            .collect::<Vec<_>>()
    );
    assert!(
        duplicated.is_empty(),
        "writes applied twice: {duplicated:?}"
    );
    assert_eq!(
        comment::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        old_primary_rows,
        "the demoted primary applied nothing after its demotion"
    );
    assert!(
        errors.keys().all(|k| [
            "not_primary",
            "primary_unavailable",
            "timeout",
            "unreachable"
        ]
        .contains(k)),
        "{errors:?}"
    );
    assert!(
        acked.len() >= 280,
        "nearly every write is acknowledged after retries: {}",
        acked.len()
    );
}
