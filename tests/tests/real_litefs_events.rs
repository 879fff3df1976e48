//! The primary tracker reads real LiteFS's `/events` stream: on three `litefs mount`
//! processes, each tracker's stream begins with one `init` line, a commit on the primary
//! reaches every tracker as `tx` lines, and no line is malformed. Counted through
//! `litefs_events_total`, with a recorder of this binary's own (one test, so the counts are
//! this test's). Skips like the other real-LiteFS tests.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use repo_litefs::tracker::Role;
use repo_tests::real_litefs::{DB, LiteFsCluster};
use sea_orm::{ConnectionTrait, Database};

/// `litefs_events_total` by `type`, summed over the snapshots taken so far (each snapshot
/// drains the recorder's counters).
struct Events {
    snapshotter: Snapshotter,
    sums: HashMap<String, u64>,
}

impl Events {
    /// Installs the recorder, process-wide: the trackers run on runtime threads.
    fn install() -> Self {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the only recorder of this binary");
        Self {
            snapshotter,
            sums: HashMap::new(),
        }
    }

    fn count(&mut self, kind: &str) -> u64 {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            if key.name() != "litefs_events_total" {
                continue;
            }
            if let (Some(label), DebugValue::Counter(n)) =
                (key.labels().find(|l| l.key() == "type"), value)
            {
                *self.sums.entry(label.value().to_owned()).or_default() += n;
            }
        }
        self.sums.get(kind).copied().unwrap_or(0)
    }
}

/// Polls until `count(kind)` reaches `at_least` (bounded), returning the last count.
async fn wait_for(events: &mut Events, kind: &str, at_least: u64) -> u64 {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let n = events.count(kind);
        if n >= at_least || Instant::now() >= until {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trackers_parse_the_real_events_stream() {
    let mut events = Events::install();
    let Some(cluster) = LiteFsCluster::start_or_skip(&["node-1", "node-2", "node-3"]).await else {
        return;
    };
    let trackers = cluster.trackers();
    for tracker in &trackers {
        tracker
            .wait_for_primary(Duration::from_secs(20))
            .await
            .expect("a primary");
    }
    assert_eq!(
        wait_for(&mut events, "init", 3).await,
        3,
        "one init per stream"
    );
    assert_eq!(trackers[0].current().role, Role::Primary);
    assert_eq!(trackers[1].current().forward_to(), Some("node-1"));

    let primary = Database::connect(format!(
        "sqlite://{}?mode=rwc",
        cluster.primary().db_path(DB).display()
    ))
    .await
    .expect("open on the primary");
    primary
        .execute_unprepared("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x')")
        .await
        .expect("a commit");
    let tx = wait_for(&mut events, "tx", 3).await;
    assert!(tx >= 3, "each tracker saw the commit as tx lines: {tx}");
    assert_eq!(events.count("init"), 3, "the streams stayed up");
    assert_eq!(events.count("malformed"), 0);
    primary.close().await.expect("close");
    drop(trackers);
    cluster.shutdown().await;
}
