//! The repository on real PostgreSQL 15 streaming replication: a write through the
//! standby's node is forwarded over gRPC, runs once on the primary, and is read back on
//! the standby at once (by LSN); exactly once under a retried request id; a refused
//! statement writes nothing; errors keep their SQLSTATE; a promotion is followed.
//! Skips with a message when PostgreSQL is missing, unless `CI_REQUIRE_POSTGRES` is set.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{
    Action, IdempotencyKey, Multi, NamedTransaction, Operation, RejectReason, RepoError, Request,
    StatementRule,
};
use repo_litefs::ledger::{PruneConfig, Pruner, WriteOutcome};
use repo_tests::postgres::PgCluster;
use repo_tests::postgres::nodes::{PgNodes, scalar};
use repo_tests::postgres::tag_batch::{InsertTags, TagBatch};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    SqlErr, Statement, TransactionSession, TransactionTrait,
};

fn runtime() -> tokio::runtime::Runtime {
    repo_tests::runtime()
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.to_owned()),
        ..Default::default()
    }
}

/// The SQLSTATE and message of a database error.
fn database_error(error: &RepoError) -> Option<(String, String)> {
    let RepoError::Database(e) = error else {
        return None;
    };
    db_error(e)
}

/// The SQLSTATE and message of a sea-orm error from the database.
fn db_error(error: &sea_orm::DbErr) -> Option<(String, String)> {
    let (sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))) = error
    else {
        return None;
    };
    let db = e.as_database_error()?;
    Some((db.code()?.into_owned(), db.message().to_owned()))
}

#[test]
fn a_write_through_the_standby_runs_once_on_the_primary_and_is_read_back_there() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    // Replay on the standby lags each commit by 200 ms: a read right after a write sees it
    // only if the write waited for it.
    cluster
        .standby
        .configure("recovery_min_apply_delay = '200ms'")
        .expect("delay replay");
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        assert!(
            !nodes.standby.tracker().is_primary(),
            "pg-2 follows the standby's role"
        );
        assert!(nodes.primary.tracker().is_primary());
        let written = nodes
            .standby
            .repo()
            .insert(new_tag("forwarded"))
            .await
            .expect("a forwarded insert");
        let read = nodes
            .standby
            .repo()
            .get::<tag::Entity>(written.id)
            .await
            .expect("read on the standby");
        assert_eq!(
            read,
            Some(written.clone()),
            "read your writes on the standby"
        );
        // sea-orm's own API on the repository: a raw statement takes the same path.
        let raw = nodes
            .standby
            .repo()
            .execute_unprepared("INSERT INTO tags (name) VALUES ('raw')")
            .await
            .expect("a raw forwarded insert");
        assert_eq!(raw.rows_affected(), 1);
        assert_eq!(
            scalar(&nodes.standby_db, "SELECT count(*) FROM tags").await,
            2
        );
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            2
        );
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM litefs_ledger").await,
            2,
            "the forwarded write was recorded in the primary's ledger"
        );
        nodes.shutdown().await;
    });
}

#[test]
fn a_thousand_forwarded_writes_are_each_read_back_by_lsn() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    // Read-your-writes would also end when the write's ledger row is visible; an empty
    // database stands in for the ledger here, so only the LSN can end a wait.
    cluster
        .primary
        .psql("CREATE DATABASE void")
        .expect("create the stand-in database");
    cluster
        .wait_replayed(Duration::from_secs(30))
        .expect("the standby has it");
    cluster
        .standby
        .configure("recovery_min_apply_delay = '5ms'")
        .expect("delay replay");
    let void = format!(
        "postgres://postgres@127.0.0.1:{}/void",
        cluster.standby.port
    );
    runtime().block_on(async {
        let probe = repo_postgres::connect(&void, Duration::from_secs(5))
            .await
            .expect("connect to the stand-in");
        let probe_for_node = probe.clone();
        let nodes = PgNodes::start_with_probe(&cluster, probe_for_node).await;
        let repo = nodes.standby.repo();
        let mut misses = 0;
        for i in 0..1000 {
            let written = repo
                .insert(new_tag(&format!("ryw-{i}")))
                .await
                .unwrap_or_else(|e| panic!("write {i}: {e}"));
            if repo.get::<tag::Entity>(written.id).await.expect("read") != Some(written) {
                misses += 1;
            }
        }
        assert_eq!(
            misses, 0,
            "reads on the standby that missed their own write"
        );
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            1000
        );
        drop(probe);
        nodes.shutdown().await;
    });
}

#[test]
fn a_retried_request_id_writes_once_and_another_payload_is_refused() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let repo = nodes.standby.repo();
        let key = || IdempotencyKey::new("order-1").expect("key");
        let first = repo
            .insert(new_tag("once"))
            .idempotency_key(key())
            .await
            .expect("first attempt");
        let again = repo
            .insert(new_tag("once"))
            .idempotency_key(key())
            .await
            .expect("the retry is answered from the ledger");
        assert_eq!(first, again, "the retry gets the first answer");
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            1
        );
        let other = repo
            .insert(new_tag("another"))
            .idempotency_key(key())
            .await
            .expect_err("the same id with another payload");
        assert!(matches!(other, RepoError::IdempotencyConflict), "{other:?}");
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            1
        );
        // The outcome of the id, asked from the standby: the primary's ledger answers.
        match nodes
            .standby
            .outcome(key().request_id(0), false)
            .await
            .expect("lookup")
        {
            WriteOutcome::Committed(_) => {}
            other => panic!("{other:?}"),
        }
        // An unknown id settled as not committed; a later attempt of it is refused.
        let never = IdempotencyKey::new("never").expect("key");
        assert!(matches!(
            nodes
                .standby
                .outcome(never.request_id(0), true)
                .await
                .expect("settle"),
            WriteOutcome::NotCommitted
        ));
        let late = repo
            .insert(new_tag("late"))
            .idempotency_key(never)
            .await
            .expect_err("a settled id never runs");
        assert!(
            matches!(
                late,
                RepoError::Rejected {
                    reason: RejectReason::Abandoned
                }
            ),
            "{late:?}"
        );
        // Pruning on PostgreSQL: every row older than nothing goes.
        let pruned = Pruner::new(
            nodes.primary_db.clone(),
            PruneConfig::default().max_age(Duration::ZERO),
        )
        .prune()
        .await
        .expect("prune");
        assert_eq!(pruned, 2, "the write's row and the settled one");
        nodes.shutdown().await;
    });
}

#[test]
fn a_refused_statement_writes_nothing_and_errors_keep_their_sqlstate() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let repo = nodes.standby.repo();
        for sql in [
            "INSERT INTO tags (name) SELECT 'locked' WHERE pg_advisory_lock(1) IS NOT NULL",
            "DELETE FROM tags WHERE pg_terminate_backend(pg_backend_pid())",
        ] {
            let request = Request::new(
                Action::Execute,
                "tags",
                Operation::Execute(Statement::from_string(DbBackend::Postgres, sql)),
            );
            let refused = repo
                .call(request, &Default::default())
                .await
                .expect_err(sql);
            let RepoError::Rejected {
                reason: RejectReason::Statement(statement),
            } = &refused
            else {
                panic!("{sql}: {refused:?}");
            };
            assert_eq!(statement.rule, StatementRule::ForbiddenFunction, "{sql}");
            assert!(statement.message.contains("pg_"), "{}", statement.message);
        }
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            0
        );
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM litefs_ledger").await,
            0
        );
        // A unique violation forwarded from the standby is the primary's own error.
        repo.insert(new_tag("dup")).await.expect("first");
        let forwarded = repo.insert(new_tag("dup")).await.expect_err("duplicate");
        let local = nodes
            .primary
            .repo()
            .insert(new_tag("dup"))
            .await
            .expect_err("duplicate on the primary");
        assert!(
            matches!(
                forwarded.sql_err(),
                Some(SqlErr::UniqueConstraintViolation(_))
            ),
            "{forwarded:?}"
        );
        assert_eq!(forwarded.sql_err(), local.sql_err());
        // The same SQLSTATE and message (only PostgreSQL's source location, which its
        // `Display` shows, tells the re-raised error from the original).
        assert_eq!(database_error(&forwarded), database_error(&local));
        nodes.shutdown().await;
    });
}

#[test]
fn a_transaction_and_a_multi_from_the_standby_commit_on_the_primary() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let repo = nodes.standby.repo();
        let txn = repo
            .begin()
            .await
            .expect("begin on the primary, from the standby");
        let first = new_tag("in-txn-1").insert(&txn).await.expect("insert");
        let second = new_tag("in-txn-2").insert(&txn).await.expect("insert");
        assert_ne!(first.id, second.id);
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            0,
            "nothing visible before the commit"
        );
        txn.commit().await.expect("commit");
        // A Multi from the standby, rendered in PostgreSQL's dialect.
        let done = repo
            .multi(
                Multi::new()
                    .insert("a", new_tag("multi-1"))
                    .insert("b", new_tag("multi-2"))
                    .delete_all(
                        "none",
                        tag::Entity::delete_many().filter(tag::Column::Name.eq("absent")),
                    ),
            )
            .await
            .expect("a forwarded Multi");
        let a: tag::Model = done.model::<tag::Entity>("a").await.expect("step a");
        assert_eq!(a.name, "multi-1");
        assert_eq!(done.rows_affected("none").expect("count"), 0);
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            4
        );
        let rolled_back = repo.begin().await.expect("begin");
        new_tag("never").insert(&rolled_back).await.expect("insert");
        rolled_back.rollback().await.expect("rollback");
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            4
        );
        nodes.shutdown().await;
    });
}

#[test]
fn a_promoted_standby_becomes_the_primary_and_writes_itself() {
    let Some(mut cluster) = PgCluster::start_or_skip() else {
        return;
    };
    let rt = runtime();
    let nodes = rt.block_on(PgNodes::start(&cluster, |c| c));
    cluster.standby.promote().expect("promote");
    rt.block_on(async {
        let mut role = nodes.standby.tracker().subscribe();
        tokio::time::timeout(Duration::from_secs(10), role.wait_for(|s| s.is_primary()))
            .await
            .expect("promoted within 10 s")
            .expect("tracker open");
        let written = nodes
            .standby
            .repo()
            .insert(new_tag("after-promotion"))
            .await
            .expect("a write on the promoted node");
        let on_new_primary = scalar(
            &nodes.standby_db,
            "SELECT count(*) FROM tags WHERE name = 'after-promotion'",
        )
        .await;
        assert_eq!(on_new_primary, 1, "{written:?} ran on the promoted standby");
        assert_eq!(
            scalar(&nodes.standby_db, "SELECT count(*) FROM litefs_ledger").await,
            0,
            "a local write is not recorded"
        );
        nodes.shutdown().await;
    });
}

/// In a transaction from the standby, a failed statement aborts the transaction, as
/// PostgreSQL does: the next statement fails with SQLSTATE 25P02 and so does the commit,
/// which writes nothing. (Locally, sqlx answers such a commit `Ok` although PostgreSQL rolled
/// it back; forwarded, the commit says what happened: docs/BACKENDS.md.)
#[test]
fn after_a_failed_statement_a_forwarded_commit_fails_and_writes_nothing() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let repo = nodes.standby.repo();
        repo.insert(new_tag("taken")).await.expect("a tag");
        let txn = repo.begin().await.expect("begin");
        new_tag("lost-with-the-txn")
            .insert(&txn)
            .await
            .expect("insert");
        let dup = new_tag("taken")
            .insert(&txn)
            .await
            .expect_err("a duplicate");
        assert!(
            matches!(dup.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
            "classified as locally: {dup:?}"
        );
        let next = new_tag("after").insert(&txn).await.expect_err("aborted");
        let commit = txn
            .commit()
            .await
            .expect_err("the commit of an aborted transaction");
        for error in [next, commit] {
            let code = db_error(&error).map(|(code, _)| code);
            assert_eq!(code.as_deref(), Some("25P02"), "{error:?}");
        }
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            1,
            "only the tag written before the transaction"
        );
        nodes.shutdown().await;
    });
}

/// Five tag names starting with `prefix`.
fn five(prefix: &str, fail_after: Option<usize>) -> TagBatch {
    TagBatch {
        names: (1..=5).map(|i| format!("{prefix}-{i}")).collect(),
        fail_after,
    }
}

#[test]
fn a_named_transaction_and_a_batch_from_the_standby_run_once_or_not_at_all() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let repo = nodes.standby.repo();
        let count = || scalar(&nodes.primary_db, "SELECT count(*) FROM tags");

        // Five statements in one named transaction, run on the primary, read back here.
        let ids = repo
            .transaction::<InsertTags>(five("named", None))
            .await
            .expect("a forwarded named transaction");
        assert_eq!(ids.len(), 5);
        for id in &ids {
            let read = repo.get::<tag::Entity>(*id).await.expect("read");
            assert!(read.is_some(), "tag {id} read back on the standby");
        }
        assert_eq!(count().await, 5);

        // A step that gives up after three inserts: nothing of it stays.
        let gave_up = repo
            .transaction::<InsertTags>(five("gave-up", Some(3)))
            .await
            .expect_err("fails at its fourth step");
        assert!(
            matches!(&gave_up, RepoError::TransactionFailed { name, .. } if name == InsertTags::NAME),
            "{gave_up:?}"
        );
        assert!(gave_up.to_string().contains("gave up after 3"), "{gave_up}");
        // A step the database refuses (the fifth name exists): the primary's error, as
        // the same call on the primary gets it, and nothing written.
        let mut clash = five("clash", None);
        clash.names[4] = "named-1".into();
        let forwarded = repo
            .transaction::<InsertTags>(clash.clone())
            .await
            .expect_err("a unique violation at the fifth step");
        let local = nodes
            .primary
            .repo()
            .transaction::<InsertTags>(clash)
            .await
            .expect_err("the same on the primary");
        assert!(
            matches!(
                forwarded.sql_err(),
                Some(SqlErr::UniqueConstraintViolation(_))
            ),
            "{forwarded:?}"
        );
        assert_eq!(forwarded.sql_err(), local.sql_err());
        assert_eq!(count().await, 5, "failed transactions wrote nothing");

        // Retried under the same request id: executed once, the same answer twice.
        let key = || IdempotencyKey::new("named-retry").expect("key");
        let first = repo
            .transaction::<InsertTags>(five("retried", None))
            .idempotency_key(key())
            .await
            .expect("first attempt");
        let again = repo
            .transaction::<InsertTags>(five("retried", None))
            .idempotency_key(key())
            .await
            .expect("the retry is answered from the ledger");
        assert_eq!(first, again);
        assert_eq!(count().await, 10);

        // A batch (`Multi`) of five steps, retried, and one whose last step fails.
        let batch = |prefix: &str| {
            (1..=5).fold(Multi::new(), |m, i| {
                m.insert(&format!("s{i}"), new_tag(&format!("{prefix}-{i}")))
            })
        };
        let multi_key = || IdempotencyKey::new("multi-retry").expect("key");
        let done = repo
            .multi(batch("multi"))
            .idempotency_key(multi_key())
            .await
            .expect("a forwarded batch");
        let retried = repo
            .multi(batch("multi"))
            .idempotency_key(multi_key())
            .await
            .expect("the retried batch");
        let fifth: tag::Model = done.model::<tag::Entity>("s5").await.expect("step s5");
        let fifth_again: tag::Model = retried.model::<tag::Entity>("s5").await.expect("s5");
        assert_eq!(fifth, fifth_again, "the retry gets the first answer");
        assert_eq!(count().await, 15);
        let failing = (1..=4)
            .fold(Multi::new(), |m, i| {
                m.insert(&format!("s{i}"), new_tag(&format!("doomed-{i}")))
            })
            .insert("s5", new_tag("multi-1"));
        let refused = repo.multi(failing).await.expect_err("its last step clashes");
        assert!(
            matches!(refused.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
            "{refused:?}"
        );
        assert_eq!(count().await, 15, "the failed batch wrote nothing");
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM litefs_ledger").await,
            3,
            "one ledger row per executed write (a retry adds none)"
        );
        nodes.shutdown().await;
    });
}
