//! `Durability::Candidates` on the emulator: a write is answered only once every lease
//! candidate holds it, through a replica and on the primary, per call and as the node's
//! default; when a candidate cannot get it in time the call says "committed on the primary,
//! not yet replicated"; a node without durability settings refuses it before writing.

use std::time::Duration;

use repo_core::{CommitState, Durability, RepoError};
use repo_tests::emulated_cluster::{ClusterSpec, EmulatedCluster, Schema};
use repo_tests::history_row;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

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
