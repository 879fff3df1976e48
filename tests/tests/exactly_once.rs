//! The ledger on the emulated cluster: local writes on the primary skip it; old entries are
//! pruned. (A forwarded write running once when its answer is lost and it is retried, or
//! when copies of one request race, is checked on every backend: `suite_lost_response.rs`,
//! `suite_concurrent_copies.rs`.)

use std::time::Duration;

use blog_example::entities::tag;
use repo_litefs::ledger::{PruneConfig, Pruner, TABLE};
use repo_tests::cluster::Cluster;
use sea_orm::{ConnectionTrait, DbBackend, Set, Statement};

async fn ledger_rows(db: &impl ConnectionTrait) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("SELECT COUNT(*) FROM {TABLE}"),
        ))
        .await
        .expect("count")
        .expect("row");
    row.try_get_by_index(0).expect("count")
}

#[tokio::test]
async fn local_writes_on_the_primary_skip_the_ledger() {
    let cluster = Cluster::start(1).await;
    cluster
        .primary()
        .repo
        .insert(tag::ActiveModel {
            name: Set("local".into()),
            ..Default::default()
        })
        .await
        .expect("local");
    assert_eq!(ledger_rows(&cluster.primary().db).await, 0);
    cluster
        .replica(1)
        .repo
        .insert(tag::ActiveModel {
            name: Set("forwarded".into()),
            ..Default::default()
        })
        .await
        .expect("forwarded");
    assert_eq!(ledger_rows(&cluster.primary().db).await, 1);
}

#[tokio::test]
async fn pruning_keeps_the_newest_rows_within_age_and_count() {
    let cluster = Cluster::start(1).await;
    let db = &cluster.primary().db;
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    for (i, age_ms) in [(1u8, 3 * 24 * 3600 * 1000), (2, 1000), (3, 500), (4, 10)] {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("INSERT INTO {TABLE} (request_id, response, created_at) VALUES (?, ?, ?)"),
            [vec![i; 16].into(), vec![0u8].into(), (now - age_ms).into()],
        ))
        .await
        .expect("seed");
    }
    let pruner = Pruner::new(
        db.clone(),
        PruneConfig::default()
            .max_age(Duration::from_secs(24 * 3600))
            .max_rows(2),
    );
    assert_eq!(
        pruner.prune().await.expect("prune"),
        2,
        "one too old, one beyond the newest two"
    );
    assert_eq!(ledger_rows(db).await, 2);
}
