//! A forwarded write that read-your-writes could not confirm is never a silent success:
//! by default it fails with `ReplicationLag` (committed); with `OnLag::ReturnCommitted` it
//! returns, and is counted in `litefs_consistency_timeouts_total` (a recorder of this
//! binary's own, one test, so the count is this test's).

use std::time::Duration;

use blog_example::entities::tag;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use repo_core::{CommitState, RepoError};
use repo_litefs::OnLag;
use repo_tests::cluster::{Cluster, Replication};
use sea_orm::Set;

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfirmed_write_fails_by_default_and_is_counted_when_returned() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder
        .install()
        .expect("the only recorder of this binary");
    let timeouts = || -> u64 {
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter(|(key, ..)| key.key().name() == "litefs_consistency_timeouts_total")
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => n,
                _ => 0,
            })
            .sum()
    };

    // The default (what `NodeConfig` uses) must fail; `ReturnCommitted` must return.
    for (on_lag, name, fails) in [
        (OnLag::default(), "strict", true),
        (OnLag::ReturnCommitted, "lenient", false),
    ] {
        let cluster = Cluster::start_replicated(
            1,
            Replication {
                lag: Duration::from_millis(1),
                wait: Duration::from_millis(100),
                on_lag,
            },
        )
        .await;
        cluster
            .replicator
            .as_ref()
            .expect("replicated")
            .partition("node-2");
        let result = cluster.replica(1).repo.insert(new_tag(name)).await;
        if fails {
            match result {
                Err(e @ RepoError::ReplicationLag { .. }) => {
                    assert_eq!(e.commit_state(), CommitState::Committed)
                }
                other => panic!("the default must fail as committed, got {other:?}"),
            }
        } else {
            assert_eq!(result.expect("returned committed").name, name);
        }
        // Each snapshot drains the counters: one timeout per write, whatever the mode.
        assert_eq!(timeouts(), 1, "{name}: counted");
    }
}
