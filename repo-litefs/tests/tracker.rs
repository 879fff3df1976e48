//! PrimaryTracker: follows a (fake) LiteFS HTTP API over a real socket, polls a real
//! `.primary` file, and waits for a primary on paused time with the manual tracker.

mod fake_litefs;

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use fake_litefs::{FakeLiteFs, within};
use repo_litefs::tracker::{PrimaryState, PrimaryTracker, Role, TrackerConfig, TrackerError};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;

fn replica_of(host: &str) -> PrimaryState {
    PrimaryState::replica(Some(host.to_owned()))
}

fn primary_named(host: &str) -> PrimaryState {
    PrimaryState::primary(Some(host.to_owned()))
}

fn info(is_primary: bool, host: &str) -> serde_json::Value {
    json!({
        "clusterID": "LFSC0000000000000001",
        "isPrimary": is_primary,
        "candidate": true,
        "path": "/var/lib/litefs",
        "primary": {"hostname": host},
    })
}

fn event(kind: &str, is_primary: bool, host: Option<&str>) -> String {
    let mut data = json!({ "isPrimary": is_primary });
    if let Some(host) = host {
        data["hostname"] = json!(host);
    }
    json!({ "type": kind, "data": data }).to_string()
}

/// Follows `fake` with short delays so reconnects happen promptly.
fn follow(fake: &FakeLiteFs) -> TrackerConfig {
    TrackerConfig::new()
        .api_url(fake.url())
        .reconnect_delay(Duration::from_millis(20))
        .max_reconnect_delay(Duration::from_millis(100))
}

async fn wait_for_state(rx: &mut watch::Receiver<PrimaryState>, expected: &PrimaryState) {
    within(&format!("state {expected}"), rx.wait_for(|s| s == expected))
        .await
        .expect("tracker alive");
}

// ---- HTTP API ----

#[tokio::test]
async fn info_at_start_sets_the_state() {
    let fake = FakeLiteFs::start(info(false, "node-2")).await;
    let tracker = PrimaryTracker::spawn(follow(&fake));
    let mut rx = tracker.subscribe();
    wait_for_state(&mut rx, &replica_of("node-2")).await;
    assert_eq!(tracker.current(), replica_of("node-2"));
    assert!(!tracker.is_primary());
}

#[tokio::test]
async fn init_event_sets_the_state_even_when_info_says_nothing() {
    // An /info without the fields (lenient parsing): the role stays unknown until /events says.
    let fake = FakeLiteFs::start(json!({})).await;
    let tracker = PrimaryTracker::spawn(follow(&fake));
    fake.wait_for_connections(1).await;
    assert_eq!(tracker.current().role, Role::Unknown);

    fake.send(&event("init", true, Some("node-1")));
    let mut rx = tracker.subscribe();
    wait_for_state(&mut rx, &primary_named("node-1")).await;
    assert!(tracker.is_primary());
}

#[tokio::test]
async fn primary_changes_update_the_state() {
    let fake = FakeLiteFs::start(info(false, "node-2")).await;
    let tracker = PrimaryTracker::spawn(follow(&fake).self_hostname("node-1"));
    let mut rx = tracker.subscribe();
    fake.wait_for_connections(1).await;
    fake.send(&event("init", false, Some("node-2")));
    wait_for_state(&mut rx, &replica_of("node-2")).await;

    fake.send(&event("primaryChange", false, Some("node-3")));
    wait_for_state(&mut rx, &replica_of("node-3")).await;

    // The primary lost, no successor yet: a replica with nowhere to send writes.
    fake.send(&event("primaryChange", false, None));
    wait_for_state(&mut rx, &PrimaryState::replica(None)).await;

    // Promoted; LiteFS does not name this node, the configured hostname does.
    fake.send(&event("primaryChange", true, None));
    wait_for_state(&mut rx, &primary_named("node-1")).await;
}

#[tokio::test]
async fn an_unnamed_primary_learns_its_hostname_from_info() {
    let fake = FakeLiteFs::start(info(false, "node-2")).await;
    let tracker = PrimaryTracker::spawn(follow(&fake));
    let mut rx = tracker.subscribe();
    wait_for_state(&mut rx, &replica_of("node-2")).await;
    fake.wait_for_connections(1).await;

    fake.set_info(info(true, "node-1"));
    fake.send(&event("primaryChange", true, None));
    wait_for_state(&mut rx, &primary_named("node-1")).await;
}

#[tokio::test]
async fn tx_unknown_and_garbage_lines_are_ignored() {
    let fake = FakeLiteFs::start(info(false, "node-2")).await;
    let tracker = PrimaryTracker::spawn(follow(&fake));
    let mut rx = tracker.subscribe();
    fake.wait_for_connections(1).await;
    fake.send(&event("init", false, Some("node-2")));
    wait_for_state(&mut rx, &replica_of("node-2")).await;
    rx.mark_unchanged();

    fake.send(
        r#"{"type":"tx","db":"my.db","data":{"txID":"0000000000000027","postApplyChecksum":"83b05248774ce767","pageSize":4096,"commit":2,"timestamp":"2024-05-01T10:00:00Z"}}"#,
    );
    fake.send(r#"{"type":"somethingNew","data":{"isPrimary":true,"hostname":"evil"}}"#);
    fake.send("this is not json");
    fake.send(r#"{"type":"primaryChange"}"#);
    fake.send(r#"{"type":"init","data":{"isPrimary":"yes"}}"#);
    fake.send("[]");
    fake.send("");
    fake.send_bytes(b"\xff\xfe{\"type\":\"init\"}\n".to_vec());
    fake.send(&"x".repeat(100 * 1024));
    // One event split across two chunks still counts.
    fake.send_bytes(br#"{"type":"primaryChange","da"#.to_vec());
    fake.send_bytes(b"ta\":{\"isPrimary\":false,\"hostname\":\"node-3\"}}\n".to_vec());

    within("the next state change", rx.changed())
        .await
        .expect("tracker alive");
    assert_eq!(
        *rx.borrow(),
        replica_of("node-3"),
        "the first change after the ignored lines is the real event"
    );
    assert_eq!(fake.connections(), 1, "bad lines do not drop the stream");
    assert_eq!(fake.info_reads(), 1, "bad lines do not trigger a re-read");
}

#[tokio::test]
async fn a_closed_stream_rereads_info_and_reconnects() {
    let fake = FakeLiteFs::start(info(false, "node-2")).await;
    let tracker = PrimaryTracker::spawn(follow(&fake));
    let mut rx = tracker.subscribe();
    fake.wait_for_connections(1).await;
    fake.send(&event("init", false, Some("node-2")));
    wait_for_state(&mut rx, &replica_of("node-2")).await;

    fake.set_info(info(false, "node-3"));
    fake.close_events();
    // Only /info can say node-3: no event on any connection names it.
    wait_for_state(&mut rx, &replica_of("node-3")).await;
    assert!(fake.info_reads() >= 2);

    fake.wait_for_connections(2).await;
    fake.send(&event("init", true, Some("node-1")));
    wait_for_state(&mut rx, &primary_named("node-1")).await;
}

#[tokio::test]
async fn litefs_errors_leave_the_role_unknown_until_it_recovers() {
    let fake = FakeLiteFs::start(info(true, "node-1")).await;
    fake.fail_with(Some(StatusCode::SERVICE_UNAVAILABLE));
    let tracker = PrimaryTracker::spawn(follow(&fake));
    fake.wait_for_info_reads(3).await;
    assert_eq!(tracker.current(), PrimaryState::unknown());
    assert_eq!(fake.connections(), 0);

    fake.fail_with(None);
    fake.wait_for_connections(1).await;
    fake.send(&event("init", true, Some("node-1")));
    let mut rx = tracker.subscribe();
    wait_for_state(&mut rx, &primary_named("node-1")).await;
}

#[tokio::test]
async fn dropping_the_last_tracker_stops_following_litefs() {
    let fake = FakeLiteFs::start(info(false, "node-2")).await;
    let tracker = PrimaryTracker::spawn(follow(&fake));
    let clone = tracker.clone();
    fake.wait_for_connections(1).await;
    drop(tracker);
    fake.send(&event("primaryChange", false, Some("node-3")));
    let mut rx = clone.subscribe();
    wait_for_state(&mut rx, &replica_of("node-3")).await;

    drop(clone);
    fake.wait_for_client_to_leave().await;
    assert!(
        rx.changed().await.is_err(),
        "the channel closes with the task"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unusable_api_url_leaves_the_primary_unavailable() {
    let tracker = PrimaryTracker::spawn(TrackerConfig::new().api_url("localhost:20202"));
    let err = tracker
        .wait_for_primary(Duration::from_secs(3))
        .await
        .expect_err("no primary");
    assert_eq!(
        err,
        TrackerError::PrimaryUnavailable {
            waited: Duration::from_secs(3)
        }
    );
}

#[tokio::test(start_paused = true)]
async fn without_a_source_the_role_stays_unknown() {
    let tracker = PrimaryTracker::spawn(TrackerConfig::new());
    let err = tracker
        .wait_for_primary(Duration::from_secs(3))
        .await
        .expect_err("no primary");
    assert!(matches!(err, TrackerError::PrimaryUnavailable { .. }));
    assert_eq!(tracker.current(), PrimaryState::unknown());
}

// ---- .primary polling ----

/// Replaces `<dir>/.primary` atomically (or removes it for `None`).
fn write_primary_file(dir: &Path, content: Option<&[u8]>) {
    let path = dir.join(".primary");
    match content {
        Some(bytes) => {
            let tmp = dir.join(".primary.tmp");
            std::fs::write(&tmp, bytes).expect("write .primary.tmp");
            std::fs::rename(&tmp, &path).expect("rename to .primary");
        }
        None => std::fs::remove_file(&path).expect("remove .primary"),
    }
}

#[tokio::test]
async fn the_primary_file_is_polled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tracker = PrimaryTracker::spawn(
        TrackerConfig::new()
            .mount_dir(dir.path())
            .poll_interval(Duration::from_millis(10)),
    );
    let mut rx = tracker.subscribe();
    assert_eq!(tracker.current(), PrimaryState::unknown());

    write_primary_file(dir.path(), Some(b"node-2\n"));
    wait_for_state(&mut rx, &replica_of("node-2")).await;

    write_primary_file(dir.path(), Some(b"node-3\n"));
    wait_for_state(&mut rx, &replica_of("node-3")).await;

    // Absent: this node may be primary, or a replica that lost its primary. Not primary.
    write_primary_file(dir.path(), None);
    wait_for_state(&mut rx, &PrimaryState::unknown()).await;

    write_primary_file(dir.path(), Some(b"node-4\n"));
    wait_for_state(&mut rx, &replica_of("node-4")).await;
    write_primary_file(dir.path(), Some(b"node 4 is primary\n"));
    wait_for_state(&mut rx, &PrimaryState::unknown()).await;

    write_primary_file(dir.path(), Some(b"node-5\n"));
    wait_for_state(&mut rx, &replica_of("node-5")).await;
    write_primary_file(dir.path(), Some(b"\n"));
    wait_for_state(&mut rx, &PrimaryState::unknown()).await;
    assert!(!tracker.is_primary());
}

// ---- wait_for_primary, on paused time with the manual tracker ----

#[tokio::test(start_paused = true)]
async fn wait_for_primary_returns_at_once_when_known() {
    for known in [
        primary_named("node-1"),
        PrimaryState::primary(None),
        replica_of("node-2"),
    ] {
        let (tracker, _handle) = PrimaryTracker::manual(known.clone());
        let start = Instant::now();
        let state = tracker
            .wait_for_primary(Duration::ZERO)
            .await
            .expect("known at once");
        assert_eq!(state, known);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}

#[tokio::test(start_paused = true)]
async fn wait_for_primary_fails_after_the_timeout_when_unknown() {
    for unknown in [PrimaryState::unknown(), PrimaryState::replica(None)] {
        let (tracker, _handle) = PrimaryTracker::manual(unknown);
        let start = Instant::now();
        let err = tracker
            .wait_for_primary(Duration::from_secs(5))
            .await
            .expect_err("unavailable");
        assert_eq!(
            err,
            TrackerError::PrimaryUnavailable {
                waited: Duration::from_secs(5)
            }
        );
        assert!(
            err.to_string()
                .starts_with("primary unavailable: no primary known after 5s"),
            "{err}"
        );
        assert!(err.to_string().contains("LiteFS"), "{err}");
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    }
}

#[tokio::test(start_paused = true)]
async fn wait_for_primary_returns_when_a_primary_appears() {
    let (tracker, handle) = PrimaryTracker::manual(PrimaryState::unknown());
    let start = Instant::now();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        handle.set(PrimaryState::replica(None));
        tokio::time::sleep(Duration::from_secs(1)).await;
        handle.set(replica_of("node-2"));
    });
    let state = tracker
        .wait_for_primary(Duration::from_secs(10))
        .await
        .expect("appears after 2 s");
    assert_eq!(state, replica_of("node-2"));
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_handle_closes_the_manual_tracker() {
    let (tracker, handle) = PrimaryTracker::manual(PrimaryState::unknown());
    drop(handle);
    let err = tracker
        .wait_for_primary(Duration::from_secs(5))
        .await
        .expect_err("closed");
    assert_eq!(err, TrackerError::Closed);

    let (tracker, handle) = PrimaryTracker::manual(primary_named("node-1"));
    drop(handle);
    let state = tracker.wait_for_primary(Duration::from_secs(5)).await;
    assert_eq!(
        state,
        Ok(primary_named("node-1")),
        "the last state still counts"
    );
}

#[tokio::test]
async fn the_manual_handle_publishes_only_changes() {
    let (tracker, handle) = PrimaryTracker::manual(PrimaryState::unknown());
    let mut rx = tracker.subscribe();
    assert!(!handle.set(PrimaryState::unknown()));
    assert!(!rx.has_changed().expect("open"), "same state: no wake-up");

    assert!(handle.set(primary_named("node-1")));
    assert!(rx.has_changed().expect("open"));
    assert_eq!(*rx.borrow_and_update(), primary_named("node-1"));
    assert_eq!(tracker.current(), primary_named("node-1"));
    assert_eq!(handle.current(), primary_named("node-1"));

    let late = tracker.subscribe();
    assert!(
        !late.has_changed().expect("open"),
        "a new subscriber starts up to date"
    );
}
