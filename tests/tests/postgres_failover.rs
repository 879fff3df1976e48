//! Failover on real PostgreSQL 15 beyond the promoted node itself: another standby's node
//! follows the promoted one (discovery from the standby's own replication source) and
//! keeps reading its writes by LSN on the new timeline; a write a demoted primary refuses
//! (SQLSTATE 25006) reaches the sender as `NotPrimary`; writers on a standby while the
//! primary fails and the standby is promoted lose and duplicate no acknowledged write.
//! Skips with a message when PostgreSQL is missing, unless `CI_REQUIRE_POSTGRES` is set.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{CallOptions, IdempotencyKey, RepoError};
use repo_litefs::{Endpoints, Node, NodeConfig};
use repo_postgres::RoleConfig;
use repo_tests::postgres::listeners::listeners;
use repo_tests::postgres::nodes::{scalar, test_config};
use repo_tests::postgres::{PgCluster, PgServer, events};
use repo_tests::proxy::Proxy;
use sea_orm::Set;
use tokio::net::TcpListener;

fn runtime() -> tokio::runtime::Runtime {
    repo_tests::runtime()
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    }
}

/// A connection to `server`'s database `name`.
async fn connect(server: &PgServer, name: &str) -> sea_orm::DatabaseConnection {
    let url = format!("postgres://postgres@127.0.0.1:{}/{name}", server.port);
    repo_postgres::connect(&url, Duration::from_secs(5))
        .await
        .expect("connect")
}

/// Waits (bounded) until `node` forwards to, or is, `primary`.
async fn until_primary_is(node: &Node, primary: &str) {
    let mut state = node.tracker().subscribe();
    let seen = tokio::time::timeout(
        Duration::from_secs(30),
        state.wait_for(|s| s.primary.as_deref() == Some(primary)),
    )
    .await;
    assert!(
        seen.is_ok(),
        "{} still follows {:?} after 30 s, not {primary}",
        node.name(),
        node.tracker().current().primary
    );
}

#[test]
fn another_standby_follows_the_promoted_one_and_a_demoted_primary_answers_not_primary() {
    let Some(mut cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster.add_standby().expect("a second standby");
    // An empty database stands in for the ledger of pg-3's read-your-writes, so only the
    // LSN can end its waits.
    cluster
        .primary
        .psql("CREATE DATABASE void")
        .expect("stand-in");
    cluster.more[0].wait_for(
        "SELECT count(*) FROM pg_database WHERE datname = 'void'",
        "1",
    );
    let ports = [
        cluster.primary.port,
        cluster.standby.port,
        cluster.more[0].port,
    ];
    // Discovery: each standby's node learns its primary from the server it streams from.
    let role = |name: &str| {
        RoleConfig::new(name, "pg-1")
            .interval(Duration::from_millis(100))
            .upstream("127.0.0.1", ports[0], "pg-1")
            .upstream("127.0.0.1", ports[1], "pg-2")
            .upstream("127.0.0.1", ports[2], "pg-3")
    };
    let rt = runtime();
    let (pg1, pg2, pg3, pg4, s1_db) = rt.block_on(async {
        let (mut ls, endpoints) = listeners(4).await;
        let start = |config: NodeConfig, l: TcpListener| async move {
            Node::start(config, l).await.expect("start a node")
        };
        let p_db = connect(&cluster.primary, "postgres").await;
        let s1_db = connect(&cluster.standby, "postgres").await;
        let s2_db = connect(&cluster.more[0], "postgres").await;
        let void = connect(&cluster.more[0], "void").await;
        let l4 = ls.pop().expect("l4");
        let l3 = ls.pop().expect("l3");
        let l2 = ls.pop().expect("l2");
        let l1 = ls.pop().expect("l1");
        // pg-1 reads its role once an hour: only a refused write makes it look again.
        let pg1 = start(
            test_config(
                &p_db,
                &endpoints,
                role("pg-1").interval(Duration::from_secs(3600)),
            ),
            l1,
        )
        .await;
        let pg2 = start(test_config(&s1_db, &endpoints, role("pg-2")), l2).await;
        let pg3 = start(
            test_config(&s2_db, &endpoints, role("pg-3")).read_your_writes_ledger(void),
            l3,
        )
        .await;
        // pg-4 forwards to the configured pg-1 whatever happens (no discovery), and has no
        // retrying layers: it sees the answer as it comes.
        let pg4 = start(
            test_config(
                &s2_db,
                &endpoints,
                RoleConfig::new("pg-4", "pg-1").interval(Duration::from_millis(100)),
            )
            .stack(None),
            l4,
        )
        .await;
        let before = pg3
            .repo()
            .insert(new_tag("before"))
            .await
            .expect("a write from pg-3 to pg-1");
        assert_eq!(
            pg3.repo()
                .get::<tag::Entity>(before.id)
                .await
                .expect("read"),
            Some(before)
        );
        (pg1, pg2, pg3, pg4, s1_db)
    });

    // Switchover: the primary stops cleanly, the first standby is promoted (timeline 2),
    // the second is pointed at it and replays with a delay.
    cluster.primary.stop_fast().expect("stop the primary");
    cluster.standby.promote().expect("promote");
    cluster.more[0]
        .follow(&cluster.standby)
        .expect("follow the promoted standby");
    cluster.more[0]
        .configure("recovery_min_apply_delay = '300ms'")
        .expect("delay replay");
    cluster.more[0].wait_for(
        "SELECT received_tli FROM pg_stat_wal_receiver WHERE status = 'streaming'",
        "2",
    );
    rt.block_on(async {
        until_primary_is(&pg2, "pg-2").await;
        until_primary_is(&pg3, "pg-2").await;
        assert!(!pg3.tracker().is_primary());
        // Forwarded to the new primary, and read back on the new timeline by LSN alone.
        let after = pg3
            .repo()
            .insert(new_tag("after"))
            .await
            .expect("a write from pg-3 to pg-2");
        assert_eq!(
            pg3.repo().get::<tag::Entity>(after.id).await.expect("read"),
            Some(after),
            "read your writes on a standby following timeline 2"
        );
        assert_eq!(scalar(&s1_db, "SELECT count(*) FROM tags").await, 2);
        assert_eq!(
            scalar(&s1_db, "SELECT count(*) FROM litefs_ledger").await,
            2,
            "both forwarded writes are in the new primary's ledger"
        );
    });

    // The old primary rejoins as a standby of the new one; pg-1 still believes it is the
    // primary (it has not read its role since).
    cluster
        .primary
        .start_as_standby_of(&cluster.standby)
        .expect("rejoin");
    cluster.primary.wait_for("SELECT count(*) FROM tags", "2");
    assert!(pg1.tracker().is_primary(), "pg-1 does not know yet");
    rt.block_on(async {
        let refused = pg4
            .repo()
            .insert(new_tag("to-the-demoted"))
            .await
            .expect_err("the demoted primary cannot write");
        assert!(
            matches!(refused, RepoError::NotPrimary { .. }),
            "a read-only refusal reaches the sender as NotPrimary: {refused:?}"
        );
        assert!(refused.is_transient(), "and may be sent again elsewhere");
        // The refusal made pg-1 read its role: a standby of pg-2.
        until_primary_is(&pg1, "pg-2").await;
        assert!(!pg1.tracker().is_primary());
        assert_eq!(
            scalar(
                &s1_db,
                "SELECT count(*) FROM tags WHERE name = 'to-the-demoted'"
            )
            .await,
            0
        );
        for node in [pg4, pg3, pg2, pg1] {
            node.shutdown().await;
        }
    });
}

/// One writer's calls and their answers: (request key, rows the answer says it wrote).
type History = Vec<(String, Result<u64, String>)>;

#[test]
fn a_promotion_under_load_loses_and_duplicates_no_acknowledged_write() {
    let Some(mut cluster) = PgCluster::start_or_skip() else {
        return;
    };
    // Synchronous replication: a commit is acknowledged once the standby has it, so a
    // crash of the primary loses no acknowledged write at the database level.
    cluster
        .primary
        .configure("synchronous_standby_names = '*'")
        .expect("synchronous standby");
    // No unique constraint: a write executed twice would show as two rows.
    cluster.primary.psql(events::CREATE).expect("events");
    let rt = runtime();
    let (pg1, pg2, s_db, link) = rt.block_on(async {
        let (mut ls, _) = listeners(2).await;
        // pg-1 (the primary's machine) is reached through a proxy that can hold its
        // answers and cut it off.
        let link = Proxy::start(ls[0].local_addr().expect("addr")).await;
        let endpoints = Endpoints::map([
            ("pg-1", format!("http://{}", link.addr)),
            (
                "pg-2",
                format!("http://{}", ls[1].local_addr().expect("addr")),
            ),
        ]);
        let p_db = connect(&cluster.primary, "postgres").await;
        let s_db = connect(&cluster.standby, "postgres").await;
        let l2 = ls.pop().expect("l2");
        let l1 = ls.pop().expect("l1");
        let role = |name: &str| RoleConfig::new(name, "pg-1").interval(Duration::from_millis(100));
        let pg1 = Node::start(test_config(&p_db, &endpoints, role("pg-1")), l1)
            .await
            .expect("pg-1");
        let pg2 = Node::start(test_config(&s_db, &endpoints, role("pg-2")), l2)
            .await
            .expect("pg-2");
        (pg1, pg2, s_db, link)
    });
    const WRITERS: usize = 4;
    const WRITES: usize = 40;
    let done = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let repo = pg2.repo().clone();
            let done = done.clone();
            rt.spawn(async move {
                let mut history = History::new();
                for i in 0..WRITES {
                    let key = format!("w{w}-{i}");
                    let mut answer = Err(String::from("never sent"));
                    // The same key until an answer, bounded: a retry is answered by the
                    // ledger if an earlier attempt committed.
                    for _ in 0..200 {
                        let request = events::insert(&key);
                        let options = CallOptions {
                            idempotency_key: Some(IdempotencyKey::new(&key).expect("key")),
                            timeout: Some(Duration::from_secs(5)),
                            ..Default::default()
                        };
                        match repo.call(request, &options).await {
                            Ok(response) => {
                                answer = match response.outcome {
                                    repo_core::Outcome::Executed(summary) => {
                                        Ok(summary.rows_affected)
                                    }
                                    other => Err(format!("{other:?}")),
                                };
                                break;
                            }
                            Err(e) => {
                                answer = Err(e.to_string());
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    history.push((key, answer));
                    done.fetch_add(1, Ordering::Relaxed);
                }
                history
            })
        })
        .collect();
    // The primary's machine fails a quarter of the way in, with every writer's write
    // committed (and, synchronously, on the standby) but its answer not yet back: each
    // writer's retry must be answered by the ledger, not run again.
    while done.load(Ordering::Relaxed) < WRITERS * WRITES / 4 {
        std::thread::sleep(Duration::from_millis(10));
    }
    link.hold_replies(true);
    let unanswered = || {
        let on_standby: usize = cluster
            .standby
            .psql("SELECT count(*) FROM events")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        on_standby.saturating_sub(done.load(Ordering::Relaxed))
    };
    for _ in 0..600 {
        if unanswered() >= WRITERS {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        unanswered(),
        WRITERS,
        "each writer has a committed, unanswered write"
    );
    cluster.primary.stop().expect("crash the primary");
    link.cut();
    cluster.standby.promote().expect("promote under load");
    let histories: Vec<History> = rt.block_on(async {
        let mut all = Vec::new();
        for writer in writers {
            all.push(writer.await.expect("a writer"));
        }
        all
    });
    rt.block_on(async {
        let mut acknowledged = 0;
        for (key, answer) in histories.iter().flatten() {
            let rows = scalar(
                &s_db,
                &format!("SELECT count(*) FROM events WHERE key = '{key}'"),
            )
            .await;
            assert!(rows <= 1, "{key} was executed {rows} times");
            if let Ok(written) = answer {
                assert_eq!(*written, 1, "{key}");
                assert_eq!(rows, 1, "{key} was acknowledged but is lost");
                acknowledged += 1;
            }
        }
        assert_eq!(
            acknowledged,
            WRITERS * WRITES,
            "every write was answered in the end: {:?}",
            histories
                .iter()
                .flatten()
                .filter(|(_, a)| a.is_err())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            scalar(&s_db, "SELECT count(*) FROM events").await,
            i64::try_from(WRITERS * WRITES).expect("small")
        );
        pg2.shutdown().await;
        pg1.shutdown().await;
    });
}
