//! Read your writes asks the replica's database only when something changed: a write that
//! waits while nothing replicates is looked for once (its own first look), however long it
//! waits; when the replica's file changes, one query looks for every waiting write at once.
//! Counted through `litefs_consistency_probes_total` (a recorder of this binary's own, one
//! test, so every probe counted is this test's).

use std::time::Duration;

use blog_example::entities::tag;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use repo_core::{CommitState, RepoError};
use repo_litefs::OnLag;
use repo_tests::cluster::{Cluster, Replication};
use sea_orm::Set;

fn new_tag(name: String) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name),
        ..Default::default()
    }
}

/// Probes counted since the last call (a snapshot drains the counters).
fn probes(snapshotter: &Snapshotter) -> u64 {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "litefs_consistency_probes_total")
        .map(|(.., value)| match value {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_writes_probe_only_when_the_replica_changes() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this binary");
    let cluster = Cluster::start_replicated(
        1,
        Replication {
            lag: Duration::from_millis(1),
            wait: Duration::from_secs(3),
            on_lag: OnLag::Fail,
        },
    )
    .await;
    let replicator = cluster.replicator.as_ref().expect("replicated");
    let replica = cluster.replica(1).repo.clone();
    replica
        .insert(new_tag("warm-up".into()))
        .await
        .expect("the wait ends when the write arrives");

    // Nothing reaches the replica: 3 s of waiting is one look (1 ms polling: ~3,000).
    replicator.partition("node-2");
    let _ = probes(&snapshotter);
    let err = replica
        .insert(new_tag("cut-off".into()))
        .await
        .expect_err("the write cannot arrive");
    assert!(matches!(err, RepoError::ReplicationLag { .. }), "{err:?}");
    assert_eq!(err.commit_state(), CommitState::Committed);
    let idle = probes(&snapshotter);
    assert!(
        idle <= 2,
        "{idle} probes while nothing changed on the replica"
    );

    // 16 writes wait while partitioned: 16 first looks, then nothing; healed,
    // the replica's file changes and one query per change finds them all.
    let waiting: Vec<_> = (0..16)
        .map(|i| {
            let replica = replica.clone();
            tokio::spawn(async move { replica.insert(new_tag(format!("waiting-{i}"))).await })
        })
        .collect();
    let mut first_looks = 0;
    for _ in 0..500 {
        first_looks += probes(&snapshotter);
        if first_looks >= 16 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(first_looks, 16, "each waiting write looked for itself once");
    replicator.heal("node-2");
    for write in waiting {
        write.await.expect("joined").expect("arrived once healed");
    }
    let after_heal = probes(&snapshotter);
    assert!(
        after_heal < 8,
        "{after_heal} probes to find 16 waiting writes (one query per change expected)"
    );
}
