//! `Durability::Candidates` on real PostgreSQL 15 (a primary and two streaming standbys,
//! a node on each): a write is answered only once both standbys have flushed it; with one
//! standby down it is committed on the primary and answered `NotReplicated`, forwarded or
//! local, while `Durability::Primary` writes go on; once the standby is back, `Candidates`
//! writes are answered again; a crash of the primary and a promotion under `Candidates`
//! load with asynchronous replication lose no acknowledged write (under `Primary` load
//! the loss is measured). Skips with a message when PostgreSQL is missing, unless
//! `CI_REQUIRE_POSTGRES` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{CallOptions, CommitState, Consistency, Durability, IdempotencyKey, RepoError};
use repo_litefs::Node;
use repo_litefs::durability::{Candidates, DurabilityConfig};
use repo_postgres::RoleConfig;
use repo_tests::history::{Answer, History, Verdict};
use repo_tests::postgres::listeners::listeners;
use repo_tests::postgres::nodes::{scalar, test_config};
use repo_tests::postgres::{PgCluster, PgServer, events};
use repo_tests::proxy::Proxy;
use repo_tests::write_script::new_tag;
use sea_orm::DatabaseConnection;

/// How long the primary waits for the candidates.
const WAIT: Duration = Duration::from_secs(2);

async fn connect(url: &str) -> DatabaseConnection {
    repo_postgres::connect(url, Duration::from_secs(5))
        .await
        .expect("connect")
}

/// The rows of `tags` named `name` on `db`.
async fn named(db: &DatabaseConnection, name: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT count(*) FROM tags WHERE name = '{name}'"),
    )
    .await
}

/// Whether `error` says the write committed on the primary but not on every candidate.
fn not_replicated(error: &RepoError) -> bool {
    matches!(error, RepoError::NotReplicated { .. })
        && error.commit_state() == CommitState::Committed
}

#[test]
fn candidates_writes_are_answered_once_every_standby_flushed_them() {
    let Some(mut cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster.add_standby().expect("a second standby");
    let runtime = repo_tests::runtime();
    runtime.block_on(async {
        let (mut ls, endpoints) = listeners(3).await;
        let durability =
            DurabilityConfig::new(Candidates::named(["pg-1", "pg-2", "pg-3"])).wait(WAIT);
        let urls = [
            cluster.primary.url(),
            cluster.standby.url(),
            cluster.more[0].url(),
        ];
        let mut nodes = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            let name = format!("pg-{}", i + 1);
            let role = RoleConfig::new(&name, "pg-1").interval(Duration::from_millis(100));
            let config =
                test_config(&connect(url).await, &endpoints, role).durability(durability.clone());
            let node = Node::start(config, ls.remove(0)).await.expect("start");
            nodes.push(node);
        }
        let (pg1, pg2) = (&nodes[0], &nodes[1]);
        let primary_db = connect(&urls[0]).await;

        // Both standbys up: answered, from a standby (forwarded) and on the primary (local).
        for (node, name) in [(pg2, "held-fwd"), (pg1, "held-local")] {
            node.repo()
                .insert(new_tag(name))
                .durability(Durability::Candidates)
                .await
                .unwrap_or_else(|e| panic!("{name} with both standbys up: {e}"));
            assert_eq!(named(&primary_db, name).await, 1);
        }

        // pg-3's server down: committed on the primary, answered `NotReplicated`.
        cluster.more[0].stop().expect("stop standby-2");
        for (node, name) in [(pg2, "unheld-fwd"), (pg1, "unheld-local")] {
            let error = node
                .repo()
                .insert(new_tag(name))
                .durability(Durability::Candidates)
                .await
                .expect_err("a candidate is down");
            assert!(not_replicated(&error), "{name}: {error:?}");
            assert_eq!(named(&primary_db, name).await, 1, "{name} committed once");
        }
        let primary_only = pg2
            .repo()
            .insert(new_tag("primary-only"))
            .durability(Durability::Primary)
            .await
            .expect("Durability::Primary does not wait for the candidates");
        assert_eq!(
            pg2.repo()
                .get::<tag::Entity>(primary_only.id)
                .await
                .expect("read"),
            Some(primary_only)
        );

        // pg-3's server back: it catches up and reports, and writes are answered again
        // (its first reports may come after the first tries' wait).
        cluster.more[0].start().expect("restart standby-2");
        cluster
            .wait_streaming(Duration::from_secs(60))
            .expect("streaming again");
        let mut answered = None;
        for attempt in 0..10 {
            let name = format!("held-again-{attempt}");
            match pg2
                .repo()
                .insert(new_tag(&name))
                .durability(Durability::Candidates)
                .await
            {
                Ok(row) => {
                    answered = Some(row);
                    break;
                }
                Err(e) if not_replicated(&e) => continue,
                Err(e) => panic!("{name}: {e:?}"),
            }
        }
        assert!(
            answered.is_some(),
            "no Candidates write answered in 10 tries after standby-2 came back"
        );

        for node in nodes {
            node.shutdown().await;
        }
    });
}

/// The WAL `server` (a standby) has received and flushed.
fn received(server: &PgServer) -> u64 {
    let text = server
        .psql("SELECT pg_last_wal_receive_lsn()")
        .expect("the standby's received LSN");
    repo_postgres::parse_lsn(&text).unwrap_or(0)
}

/// Writes with `Durability::Candidates` lose nothing when the primary crashes: asynchronous
/// replication with each standby's stream 30 ms behind the primary (a proxy, cut at the
/// crash, so what was on the line is lost), writers on
/// both standbys' nodes (both standbys named as candidates, no read-your-writes wait),
/// the primary crashed a quarter
/// of the way in, the standby further ahead promoted and the other pointed at it. Checked
/// against the history of every call and its answer: no acknowledged write lost, none
/// duplicated, none answered "not committed" present.
#[test]
fn a_crash_and_promotion_under_candidates_load_loses_no_acknowledged_write() {
    let Some(verdict) = crash_under_load(Durability::Candidates) else {
        return;
    };
    assert!(
        verdict.lost.is_empty(),
        "acknowledged, lost: {:?}",
        verdict.lost
    );
    assert!(
        verdict.acknowledged > WRITERS * WRITES / 4,
        "writes were acknowledged after the promotion: {verdict:?}"
    );
}

/// The same with `Durability::Primary`: writes are answered once committed on the
/// primary, so those acknowledged in the last 30 ms before the crash are usually lost
/// (measured, printed: docs/BACKENDS.md); none is duplicated or phantom.
#[test]
fn a_crash_and_promotion_under_primary_load_duplicates_nothing() {
    let Some(verdict) = crash_under_load(Durability::Primary) else {
        return;
    };
    eprintln!(
        "Durability::Primary: {} of {} acknowledged writes lost",
        verdict.lost.len(),
        verdict.acknowledged
    );
}

/// Writers on each standby's node.
const WRITERS: usize = 4;
/// Writes per writer.
const WRITES: usize = 40;

/// Runs the crash-and-promote scenario with `durability` as every node's default; the
/// history's verdict after checking what no durability may break (nothing duplicated,
/// phantom or unknown), or `None` when PostgreSQL is skipped.
fn crash_under_load(durability: Durability) -> Option<Verdict> {
    let mut cluster = PgCluster::start_or_skip()?;
    cluster.add_standby().expect("a second standby");
    // No unique constraint: a write executed twice would show as two rows.
    cluster.primary.psql(events::CREATE).expect("events");
    let ports = [
        cluster.primary.port,
        cluster.standby.port,
        cluster.more[0].port,
    ];
    let urls = [
        cluster.primary.url(),
        cluster.standby.url(),
        cluster.more[0].url(),
    ];
    let runtime = repo_tests::runtime();
    let primary_addr = std::net::SocketAddr::from(([127, 0, 0, 1], ports[0]));
    let stream = runtime.block_on(Proxy::with_delay(primary_addr, Duration::from_millis(30)));
    for standby in [&cluster.standby, &cluster.more[0]] {
        standby
            .psql(&format!(
                "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port={} user=postgres'",
                stream.addr.port()
            ))
            .expect("stream through the proxy");
        standby.psql("SELECT pg_reload_conf()").expect("reload");
        standby.wait_for(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'events'",
            "1",
        );
    }
    let nodes = runtime.block_on(async {
        let (mut ls, endpoints) = listeners(3).await;
        let settings = DurabilityConfig::new(Candidates::named(["pg-2", "pg-3"]))
            .default_durability(durability)
            .wait(WAIT);
        let mut nodes = Vec::new();
        for (i, url) in urls.iter().enumerate() {
            let name = format!("pg-{}", i + 1);
            // Discovery: a standby's node forwards to the node of the server it streams
            // from, so pointing it at the promoted one moves its writes there.
            let role = RoleConfig::new(&name, "pg-1")
                .interval(Duration::from_millis(100))
                .upstream("127.0.0.1", stream.addr.port(), "pg-1")
                .upstream("127.0.0.1", ports[1], "pg-2")
                .upstream("127.0.0.1", ports[2], "pg-3");
            let config =
                test_config(&connect(url).await, &endpoints, role).durability(settings.clone());
            nodes.push(Node::start(config, ls.remove(0)).await.expect("start"));
        }
        nodes
    });
    let history = Arc::new(History::default());
    let done = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            // Two writers on each standby's node.
            let repo = nodes[1 + w % 2].repo().clone();
            let (history, done) = (history.clone(), done.clone());
            runtime.spawn(async move {
                for i in 0..WRITES {
                    let key = format!("w{w}-{i}");
                    let mut result = Err(RepoError::Timeout {
                        commit: CommitState::NotCommitted,
                    });
                    // The same key until acknowledged, bounded: a retry is answered by the
                    // ledger if an earlier attempt committed.
                    for _ in 0..100 {
                        let request = events::insert(&key);
                        // Answered without waiting for read-your-writes, which would put
                        // each write on its writer's standby before the answer.
                        let options = CallOptions {
                            idempotency_key: Some(IdempotencyKey::new(&key).expect("key")),
                            timeout: Some(Duration::from_secs(5)),
                            consistency: Consistency::Eventual,
                            ..Default::default()
                        };
                        result = repo.call(request, &options).await.map(drop);
                        if result.is_ok() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    history.record(key, Answer::of(&result));
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    while done.load(Ordering::Relaxed) < WRITERS * WRITES / 4 {
        std::thread::sleep(Duration::from_millis(10));
    }
    // The standbys' streams cut (what was on the line, up to 30 ms of WAL, is lost), then
    // the primary crashes.
    stream.cut();
    cluster.primary.stop().expect("crash the primary");
    // Promote the standby that received more; the other follows it.
    let (promoted, follower) = if received(&cluster.standby) >= received(&cluster.more[0]) {
        (&mut cluster.standby, &mut cluster.more[0])
    } else {
        (&mut cluster.more[0], &mut cluster.standby)
    };
    promoted.promote().expect("promote under load");
    follower
        .follow(promoted)
        .expect("follow the promoted standby");
    runtime.block_on(async {
        for writer in writers {
            writer.await.expect("a writer");
        }
    });
    let rows: Vec<String> = promoted
        .psql("SELECT key FROM events")
        .expect("the rows")
        .lines()
        .map(str::to_owned)
        .collect();
    let verdict = history.check(&rows);
    eprintln!("{durability:?}: {verdict:?}");
    assert!(
        verdict.duplicated.is_empty(),
        "duplicated: {:?}",
        verdict.duplicated
    );
    assert!(verdict.phantom.is_empty(), "phantom: {:?}", verdict.phantom);
    assert!(verdict.unknown.is_empty(), "unknown: {:?}", verdict.unknown);
    runtime.block_on(async {
        for node in nodes {
            node.shutdown().await;
        }
    });
    drop(stream);
    Some(verdict)
}
