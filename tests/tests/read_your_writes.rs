//! Read your writes: after a forwarded write returns, a read on the same replica sees it,
//! with replication lag on; `Eventual` skips the wait; a partition ends the wait by its bound
//! with the result (default) or with an error that says the write committed (strict).

use std::time::{Duration, Instant};

use blog_example::entities::tag;
use repo_core::{CommitState, Consistency, RepoError};
use repo_litefs::OnLag;
use repo_tests::cluster::{Cluster, Replication};
use sea_orm::{EntityTrait, PaginatorTrait, Set};

fn new_tag(name: String) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_writes_are_each_read_back_on_the_same_replica() {
    let replication = Replication {
        lag: Duration::from_millis(2),
        wait: Duration::from_secs(5),
        on_lag: OnLag::Fail,
    };
    let cluster = Cluster::start_replicated(2, replication).await;
    let replica = &cluster.replica(1).repo;
    let mut misses = 0;
    for i in 0..1000 {
        let written = replica
            .insert(new_tag(format!("ryw-{i}")))
            .await
            .unwrap_or_else(|e| panic!("write {i}: {e}"));
        if replica.get::<tag::Entity>(written.id).await.expect("read") != Some(written) {
            misses += 1;
        }
    }
    assert_eq!(misses, 0, "read-your-writes misses");
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        1000
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventual_consistency_returns_without_waiting() {
    let replication = Replication {
        lag: Duration::from_secs(3),
        wait: Duration::from_secs(10),
        on_lag: OnLag::Fail,
    };
    let cluster = Cluster::start_replicated(1, replication).await;
    let replica = &cluster.replica(1).repo;
    let started = Instant::now();
    let written = replica
        .insert(new_tag("later".into()))
        .consistency(Consistency::Eventual)
        .await
        .expect("write");
    let read = replica.get::<tag::Entity>(written.id).await.expect("read");
    if started.elapsed() < Duration::from_secs(3) {
        assert_eq!(
            read, None,
            "the replica did not have it yet, and the call did not wait for it"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_replica_ends_the_wait_by_its_bound() {
    let strict = Replication {
        lag: Duration::from_millis(1),
        wait: Duration::from_millis(200),
        on_lag: OnLag::Fail,
    };
    let cluster = Cluster::start_replicated(1, strict).await;
    let replicator = cluster.replicator.as_ref().expect("replicated");
    replicator.partition("node-2");
    let replica = &cluster.replica(1).repo;
    let err = replica
        .insert(new_tag("cut-off".into()))
        .await
        .expect_err("no catch-up");
    assert!(
        matches!(err, RepoError::ReplicationLag { waited } if waited >= Duration::from_millis(200)),
        "{err:?}"
    );
    assert_eq!(err.commit_state(), CommitState::Committed);
    assert!(err.to_string().contains("committed"), "{err}");
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        1,
        "it did commit"
    );

    replicator.heal("node-2");
    let written = replica
        .insert(new_tag("healed".into()))
        .await
        .expect("caught up");
    assert!(
        replica
            .get::<tag::Entity>(written.id)
            .await
            .expect("read")
            .is_some()
    );

    let lenient = Replication {
        lag: Duration::from_millis(1),
        wait: Duration::from_millis(100),
        on_lag: OnLag::ReturnCommitted,
    };
    let cluster = Cluster::start_replicated(1, lenient).await;
    cluster
        .replicator
        .as_ref()
        .expect("replicated")
        .partition("node-2");
    let written = cluster
        .replica(1)
        .repo
        .insert(new_tag("anyway".into()))
        .await
        .expect("returned committed");
    assert_eq!(written.name, "anyway");
}
