//! Interactive transactions end at once, roll back and release the primary's writer when
//! their caller goes away, their stream breaks or a limit passes; every later statement
//! gets a typed "transaction expired" error, never a silent autocommit.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{RepoError, RepoTransaction};
use repo_tests::cluster::Cluster;
use repo_tests::interactive::{
    later_write_proceeds, long, new_tag, open_with_tag, replica_through, tag_exists,
};
use repo_tests::proxy::Proxy;
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, PaginatorTrait, TransactionSession};

#[tokio::test]
async fn a_dropped_transaction_rolls_back_and_releases_the_writer() {
    let cluster = Cluster::start(1).await;
    let txn = open_with_tag(&cluster.replica(1).repo, long(), "abandoned").await;
    drop(txn);
    later_write_proceeds(&cluster.replica(1).repo, "after").await;
    let primary = &cluster.primary().db;
    assert!(
        !tag_exists(primary, "abandoned").await,
        "nothing of it was written"
    );
    assert!(tag_exists(primary, "after").await);
}

#[tokio::test]
async fn a_cancelled_caller_rolls_back_and_releases_the_writer() {
    let cluster = Cluster::start(1).await;
    let repo = cluster.replica(1).repo.clone();
    let (started, inside) = tokio::sync::oneshot::channel::<()>();
    let call = tokio::spawn(async move {
        repo.transaction_with_limits::<_, (), DbErr>(long(), |txn| {
            Box::pin(async move {
                new_tag("cancelled").insert(txn).await?;
                let _ = started.send(());
                std::future::pending::<()>().await;
                Ok(())
            })
        })
        .await
    });
    inside.await.expect("the closure ran");
    call.abort();
    let _ = call.await;
    later_write_proceeds(&cluster.replica(1).repo, "after").await;
    assert!(!tag_exists(&cluster.primary().db, "cancelled").await);
}

#[tokio::test]
async fn a_stream_cut_by_the_network_writes_nothing_and_releases_the_writer() {
    let cluster = Cluster::start(1).await;
    let proxy = Proxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    let txn = open_with_tag(&replica, long(), "cut").await;
    proxy.cut();
    let next = new_tag("next")
        .insert(&txn)
        .await
        .expect_err("the stream is gone");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    let commit = txn.commit().await.expect_err("no commit after that");
    assert!(RepoTransaction::is_expired_error(&commit), "{commit}");
    // The primary rolled back when the stream broke: its writer is free.
    let write = new_tag("local").insert(&cluster.primary().repo);
    tokio::time::timeout(Duration::from_secs(20), write)
        .await
        .expect("the writer was released")
        .expect("local write");
    assert!(!tag_exists(&cluster.primary().db, "cut").await);
}

#[tokio::test]
async fn an_idle_transaction_expires_typed_and_writes_nothing() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_idle(Duration::from_millis(200));
    let txn = open_with_tag(&cluster.replica(1).repo, limits, "idle").await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let next = new_tag("too-late").insert(&txn).await.expect_err("expired");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    assert!(next.to_string().contains("idle"), "{next}");
    let commit = txn.commit().await.expect_err("never a silent commit");
    assert!(RepoTransaction::is_expired_error(&commit), "{commit}");
    let primary = &cluster.primary().db;
    assert!(!tag_exists(primary, "idle").await);
    assert!(
        !tag_exists(primary, "too-late").await,
        "never autocommitted"
    );
    later_write_proceeds(&cluster.replica(1).repo, "after").await;
}

#[tokio::test]
async fn a_transaction_past_its_maximum_duration_expires_typed_and_writes_nothing() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_duration(Duration::from_millis(300));
    let txn = open_with_tag(&cluster.replica(1).repo, limits, "long").await;
    // Busy, never idle: statements keep coming until the maximum duration passes.
    let mut error = None;
    for i in 0..200 {
        match new_tag(&format!("busy-{i}")).insert(&txn).await {
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let error = error.expect("the transaction expired");
    assert!(RepoTransaction::is_expired_error(&error), "typed: {error}");
    assert!(error.to_string().contains("maximum duration"), "{error}");
    assert!(txn.commit().await.is_err(), "never a silent commit");
    let count = tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(count, 0, "nothing of it was written");
    later_write_proceeds(&cluster.replica(1).repo, "after").await;
}

#[tokio::test]
async fn an_untouched_transaction_releases_the_writer_at_its_maximum_duration() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_duration(Duration::from_millis(300));
    let txn = open_with_tag(&cluster.replica(1).repo, limits, "untouched").await;
    // No statement arrives: the primary's own timer ends it, not a statement's budget.
    later_write_proceeds(&cluster.replica(1).repo, "after").await;
    let next = new_tag("next").insert(&txn).await.expect_err("expired");
    assert!(next.to_string().contains("maximum duration"), "{next}");
    assert!(!tag_exists(&cluster.primary().db, "untouched").await);
}

#[tokio::test]
async fn the_primary_local_path_expires_the_same_way() {
    let cluster = Cluster::start(1).await;
    let limits = long().max_idle(Duration::from_millis(200));
    let txn = open_with_tag(&cluster.primary().repo, limits, "idle").await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let next = new_tag("too-late").insert(&txn).await.expect_err("expired");
    assert!(RepoTransaction::is_expired_error(&next), "typed: {next}");
    assert!(!tag_exists(&cluster.primary().db, "idle").await);
}

#[tokio::test]
async fn begin_errors_are_typed() {
    let cluster = Cluster::start(1).await;
    let txn = cluster.primary().repo.begin_with_limits(long()).await;
    assert!(txn.is_ok());
    // The writer is held: a second transaction cannot begin within its own short limit.
    let second = cluster
        .replica(1)
        .repo
        .begin_with_limits(long().max_duration(Duration::from_millis(200)))
        .await
        .expect_err("the writer is busy");
    assert!(
        matches!(second, RepoError::Timeout { .. }),
        "typed: {second:?}"
    );
}
