//! A ledger row written before the ledger stored protobuf outcomes (the postcard format of
//! 0.1) is unreadable after the upgrade: a retry that meets it is told that its write may
//! have committed, never answered with a misread outcome, and never panics the primary.

use blog_example::entities::tag;
use repo_core::{CommitState, RepoError};
use repo_litefs::ledger::{Recorded, TABLE, lookup};
use repo_tests::cluster::Cluster;
use repo_tests::requests::insert_tag;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};

/// `Executed { rows_affected: 1, last_insert_id: 1 }` as the postcard ledger stored it.
const POSTCARD_EXECUTED: [u8; 3] = [0x00, 0x01, 0x01];

#[tokio::test]
async fn a_retry_that_meets_an_old_row_is_told_its_outcome_is_unknown() {
    let cluster = Cluster::start(1).await;
    let primary = &cluster.primary().db;
    let request = insert_tag("retried-across-the-upgrade");
    let now_ms = chrono::Utc::now().timestamp_millis();
    primary
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("INSERT INTO {TABLE} (request_id, response, created_at) VALUES (?, ?, ?)"),
            [
                request.id.0.as_bytes().to_vec().into(),
                POSTCARD_EXECUTED.to_vec().into(),
                now_ms.into(),
            ],
        ))
        .await
        .expect("old row");
    assert!(matches!(
        lookup(primary, request.id.0).await,
        Ok(Recorded::Unreadable)
    ));

    let err = cluster
        .replica(1)
        .repo
        .call(request, &Default::default())
        .await
        .expect_err("an unreadable record is not an answer");
    assert!(
        matches!(&err, RepoError::MaybeCommitted { last } if matches!(&**last, RepoError::Codec(m) if m.contains("unreadable"))),
        "{err:?}"
    );
    assert_eq!(err.commit_state(), CommitState::Unknown);
    let tags = tag::Entity::find().count(primary).await.expect("count");
    assert_eq!(tags, 0, "the retry wrote nothing");

    // The primary is unharmed: the next write goes through.
    cluster
        .replica(1)
        .repo
        .call(insert_tag("next"), &Default::default())
        .await
        .expect("next write");
}
