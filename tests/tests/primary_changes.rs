//! The forwarding layer follows the tracker: it waits (bounded) for an unknown primary,
//! and switches its channel when the primary changes.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::RepoError;
use repo_litefs::tracker::PrimaryState;
use repo_tests::cluster::{Cluster, state_for};
use sea_orm::{EntityTrait, PaginatorTrait, Set};

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_unknown_primary_fails_after_the_bounded_wait() {
    let cluster = Cluster::start(1).await;
    cluster.replica(1).tracker.set(PrimaryState::unknown());
    let err = cluster
        .replica(1)
        .repo
        .insert(new_tag("x"))
        .await
        .expect_err("no primary");
    assert!(
        matches!(err, RepoError::PrimaryUnavailable { waited } if waited == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(err.to_string().contains("check LiteFS"), "{err}");
    assert_eq!(cluster.replica(1).executed.count(), 0);
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn a_write_waits_for_a_primary_that_appears() {
    let cluster = Cluster::start(1).await;
    cluster.replica(1).tracker.set(PrimaryState::unknown());
    let write = cluster.replica(1).repo.insert(new_tag("patient"));
    let handle = cluster.replica(1).tracker.clone();
    let (result, ()) = tokio::join!(write, async move {
        tokio::task::yield_now().await;
        handle.set(state_for("node-2", "node-1"));
    });
    assert_eq!(
        result.expect("sent once the primary is known").name,
        "patient"
    );
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        1
    );
}

#[tokio::test]
async fn a_primary_change_switches_the_channel() {
    // node-2 is writable, so it can take over; node-3 is a read-only replica.
    let cluster = Cluster::start_with(2, 1).await;
    let replica = &cluster.replica(2).repo;
    replica
        .insert(new_tag("to-node-1"))
        .await
        .expect("first primary");
    cluster.set_primary("node-2");
    replica
        .insert(new_tag("to-node-2"))
        .await
        .expect("second primary");
    assert_eq!(names(&cluster, 0).await, ["to-node-1"]);
    assert_eq!(names(&cluster, 1).await, ["to-node-2"]);

    // The old primary now refuses forwarded writes and names the new one.
    cluster
        .replica(2)
        .tracker
        .set(state_for("node-3", "node-1"));
    let err = replica
        .insert(new_tag("stale"))
        .await
        .expect_err("stale view");
    assert!(
        matches!(err, RepoError::NotPrimary { primary: Some(ref p) } if p == "node-2"),
        "{err:?}"
    );
    assert!(
        err.is_transient(),
        "safe to retry once the view is refreshed"
    );
    assert_eq!(
        names(&cluster, 0).await,
        ["to-node-1"],
        "the demoted primary wrote nothing"
    );
}

async fn names(cluster: &Cluster, node: usize) -> Vec<String> {
    let rows = tag::Entity::find()
        .all(&cluster.nodes[node].db)
        .await
        .expect("rows");
    rows.into_iter().map(|t| t.name).collect()
}
