//! Interactive transactions across a change of primary and a lost answer: a demoted or
//! fenced primary aborts the transaction, typed and retryable as a whole; a commit whose
//! answer is lost is resolved by asking the primary (exactly once), never by guessing.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use blog_example::entities::tag;
use repo_core::RepoTransaction;
use repo_tests::cluster::{Cluster, blog_builder};
use repo_tests::interactive::{long, new_tag, open_with_tag, replica_through, tag_exists};
use repo_tests::proxy::Proxy;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionSession, TransactionTrait,
};

#[tokio::test]
async fn a_demoted_primary_aborts_the_transaction_typed_and_a_retry_goes_to_the_new_one() {
    // node-1 primary, node-2 writable (the next primary), node-3 a read-only replica.
    let cluster = Cluster::start_with(2, 1).await;
    let replica = &cluster.replica(2).repo;
    let txn = open_with_tag(replica, long(), "demoted").await;
    cluster.set_primary("node-2");
    let next = new_tag("after-demotion")
        .insert(&txn)
        .await
        .expect_err("aborted");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    assert!(next.to_string().contains("aborted"), "{next}");
    assert!(txn.commit().await.is_err());
    assert!(!tag_exists(&cluster.primary().db, "demoted").await);
    // Retried as a whole, it runs on the new primary.
    // `Repo::transaction::<T>` is the named-transaction call: the sea-orm one by its trait.
    TransactionTrait::transaction::<_, _, DbErr>(replica, |txn| {
        Box::pin(async move { new_tag("retried").insert(txn).await })
    })
    .await
    .expect("retry");
    assert!(tag_exists(&cluster.nodes[1].db, "retried").await);
}

#[tokio::test]
async fn a_primary_fenced_mid_transaction_aborts_it_typed() {
    use std::sync::atomic::AtomicBool;
    let db = repo_tests::db::fresh().await;
    let lease = Arc::new(AtomicBool::new(true));
    let held = lease.clone();
    let repo = blog_builder(db.conn.clone())
        .writer(
            repo_core::WriterConfig::default().commit_guard(repo_core::CommitGuard::new(
                move || held.load(Ordering::SeqCst),
            )),
        )
        .build();
    let txn = open_with_tag(&repo, long(), "fenced").await;
    // The lease is lost before the commit: the writer's guard refuses it.
    lease.store(false, Ordering::SeqCst);
    let error = txn.commit().await.expect_err("aborted");
    assert!(RepoTransaction::is_expired_error(&error), "typed: {error}");
    assert!(error.to_string().contains("aborted"), "{error}");
    assert!(!tag_exists(&db.conn, "fenced").await);
    // Typed through the repository's own API too.
    lease.store(true, Ordering::SeqCst);
    let txn = open_with_tag(&repo, long(), "fenced-again").await;
    lease.store(false, Ordering::SeqCst);
    drop(txn);
    let error = repo
        .transaction_with_limits::<_, (), DbErr>(long(), |_| Box::pin(async { Ok(()) }))
        .await
        .expect_err("refused at begin");
    assert!(format!("{error}").contains("not the primary"), "{error}");
}

#[tokio::test]
async fn a_commit_whose_answer_is_lost_is_resolved_by_asking_the_primary() {
    let cluster = Cluster::start(1).await;
    let proxy = Proxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    let txn = open_with_tag(&replica, long(), "once").await;
    // The commit reaches the primary and commits; its answer is held, then the
    // connection is cut.
    proxy.hold_replies(true);
    let commit = tokio::spawn(async move { txn.commit().await });
    let primary = cluster.primary().db.clone();
    let mut committed = false;
    for _ in 0..400 {
        if tag_exists(&primary, "once").await {
            committed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(committed, "the commit ran on the primary");
    proxy.reset();
    commit
        .await
        .expect("joined")
        .expect("resolved as committed by asking the primary");
    let count = tag::Entity::find()
        .filter(tag::Column::Name.eq("once"))
        .count(&primary)
        .await
        .expect("count");
    assert_eq!(count, 1, "exactly once");
}

#[tokio::test]
async fn a_commit_that_never_arrived_is_resolved_as_not_committed() {
    let cluster = Cluster::start(1).await;
    let proxy = Proxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    let txn = open_with_tag(&replica, long(), "never").await;
    // The commit never leaves the proxy; the connection is then cut.
    proxy.hold_requests(true);
    let commit = tokio::spawn(async move { txn.commit().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    proxy.reset();
    let error = commit.await.expect("joined").expect_err("not committed");
    assert!(RepoTransaction::is_expired_error(&error), "typed: {error}");
    assert!(!tag_exists(&cluster.primary().db, "never").await);
}
