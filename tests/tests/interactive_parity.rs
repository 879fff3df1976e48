//! sea-orm's own transactions on `&repo` (issue 16): the same unchanged code on a replica
//! (held on the primary over one stream) and on a twin primary (held on its writer) gives
//! the same results, the same errors and the same tables; inside, every statement passes
//! the primary's allowlist and the commit is recorded in its ledger. The script is shared
//! with the real-LiteFS suite (`repo_tests::transaction_script`).

use blog_example::entities::tag;
use repo_tests::cluster::Cluster;
use repo_tests::interactive::{new_tag, tag_exists};
use repo_tests::transaction_script::{assert_script_ran, script, tables};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, TransactionSession,
    TransactionTrait,
};

#[tokio::test]
async fn sea_orm_transactions_on_a_replica_match_the_primary() {
    let here = Cluster::start(1).await;
    let there = Cluster::start(1).await;

    let local = script(&here.primary().repo).await;
    let remote = script(&there.replica(1).repo).await;
    assert_eq!(remote, local, "same results and errors");
    assert_eq!(
        tables(&there.primary().db).await,
        tables(&here.primary().db).await,
        "same tables"
    );
    // The script really ran: the expected rows are there, the rolled-back ones are not.
    assert_script_ran(&tables(&there.primary().db).await);
    assert_eq!(
        tag::Entity::find()
            .count(&there.replica(1).db)
            .await
            .expect("replica tags"),
        0,
        "nothing was written on the replica's own file"
    );
}

#[tokio::test]
async fn statements_inside_pass_the_allowlist_reads_included_ddl_never() {
    let cluster = Cluster::start(1).await;
    let txn = cluster.replica(1).repo.begin().await.expect("begin");
    let ddl = txn
        .execute_unprepared("DROP TABLE tags")
        .await
        .expect_err("DDL is refused");
    assert!(ddl.to_string().contains("refused"), "{ddl}");
    let pragma = txn
        .execute_unprepared("PRAGMA writable_schema = 1")
        .await
        .expect_err("PRAGMA is refused");
    assert!(pragma.to_string().contains("refused"), "{pragma}");
    // Refusals leave the transaction open; reads and writes still run.
    new_tag("kept").insert(&txn).await.expect("write");
    assert_eq!(tag::Entity::find().count(&txn).await.expect("read"), 1);
    txn.commit().await.expect("commit");
    assert!(tag_exists(&cluster.primary().db, "kept").await);
    let ledger = cluster
        .primary()
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            format!("SELECT COUNT(*) AS n FROM {}", repo_litefs::ledger::TABLE),
        ))
        .await
        .expect("ledger")
        .and_then(|r| r.try_get::<i64>("", "n").ok());
    assert_eq!(ledger, Some(1), "the commit's request id is in the ledger");
}
