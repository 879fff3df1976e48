//! On real PostgreSQL 15, a call's deadline bounds its write as SQLite's budget does: a
//! named transaction, a batch or an interactive transaction still running near its deadline
//! is stopped by the server (its transaction's `statement_timeout`), rolls back and fails
//! definitively (`Interrupted`, nothing committed), forwarded from the standby as on the
//! primary; it leaves no statement running and no lock held; a write with time to spare
//! commits. Skips with a message when PostgreSQL is missing, unless `CI_REQUIRE_POSTGRES`
//! is set.
//!
//! Outcomes only: each slow write sleeps or computes far longer than its deadline, or
//! runs statements that each fit in it but not all together.

use std::time::Duration;

use blog_example::entities::tag;
use repo_core::{
    Action, BatchStep, CallOptions, CommitState, ExecSummary, NamedTransaction, Operation, Outcome,
    Repo, RepoError, RepoTransaction, Request, StepOperation, TransactionLimits,
};
use repo_litefs::{Endpoints, NodeConfig};
use repo_postgres::RoleConfig;
use repo_tests::postgres::PgCluster;
use repo_tests::postgres::nodes::{PgNodes, scalar, test_config};
use repo_tests::postgres::tag_batch::InsertTags;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionSession,
};
use serde::{Deserialize, Serialize};

/// The call deadline of the slow writes: far below the connections' `statement_timeout`
/// (5 s), so only the deadline can stop them in time.
const DEADLINE: Duration = Duration::from_secs(1);

/// A CPU-bound insert the forwarding allowlist accepts (a 10^10-row join): it runs far
/// longer than any deadline here.
const SLOW_INSERT: &str = "INSERT INTO tags (name) SELECT count(*)::text \
                           FROM generate_series(1, 100000) a, generate_series(1, 100000) b";

/// Inserts the tag `name`, then runs each of `then` in the same transaction.
struct TagThenRun;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct TagThen {
    name: String,
    then: Vec<String>,
}

impl NamedTransaction for TagThenRun {
    const NAME: &'static str = "deadline.tag_then_run.v1";
    type Args = TagThen;
    type Output = ();

    async fn run(txn: &DatabaseTransaction, args: TagThen) -> Result<(), DbErr> {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO tags (name) VALUES ($1)",
            [args.name.into()],
        ))
        .await?;
        for sql in args.then {
            txn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

fn config(db: &DatabaseConnection, endpoints: &Endpoints, role: RoleConfig) -> NodeConfig {
    test_config(db, endpoints, role).repo(|builder| {
        builder
            .entity::<tag::Entity>()
            .transaction::<InsertTags>()
            .transaction::<TagThenRun>()
    })
}

/// Runs `body` with both nodes on a fresh cluster (skips without PostgreSQL).
fn with_nodes<F, Fut>(body: F)
where
    F: FnOnce(PgNodes) -> Fut,
    Fut: std::future::Future<Output = PgNodes>,
{
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    let rt = repo_tests::runtime();
    rt.block_on(async {
        let nodes = PgNodes::start_configured(&cluster, config).await;
        body(nodes).await.shutdown().await;
    });
}

/// The standby's node (its writes forwarded) and the primary's (local), by name.
fn both(nodes: &PgNodes) -> [(&'static str, &Repo); 2] {
    [
        ("forwarded", nodes.standby.repo()),
        ("local", nodes.primary.repo()),
    ]
}

fn within(timeout: Duration) -> CallOptions {
    CallOptions {
        timeout: Some(timeout),
        ..Default::default()
    }
}

fn sql(text: &str) -> Statement {
    Statement::from_string(DbBackend::Postgres, text)
}

fn step(name: &str, text: &str) -> BatchStep {
    BatchStep {
        name: name.into(),
        operation: StepOperation::Execute(sql(text)),
        require_row: false,
    }
}

fn batch(steps: Vec<BatchStep>) -> Request {
    Request::new(Action::Multi, "tags", Operation::Batch(steps))
}

fn named(name: String, then: &[&str]) -> TagThen {
    TagThen {
        name,
        then: then.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// The failure of a write stopped at its deadline: definitive, nothing committed.
fn assert_interrupted(what: &str, result: Result<impl std::fmt::Debug, RepoError>) {
    let err = result.expect_err(what);
    assert!(
        matches!(err, RepoError::Interrupted { .. }),
        "{what}: interrupted, not {err:?}"
    );
    assert_eq!(err.commit_state(), CommitState::NotCommitted, "{what}");
    assert!(!err.is_transient(), "{what}: not retried");
}

async fn tags_like(db: &DatabaseConnection, prefix: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT count(*) FROM tags WHERE name LIKE '{prefix}%'"),
    )
    .await
}

#[test]
fn past_its_deadline_a_named_transaction_or_a_batch_is_interrupted_and_writes_nothing() {
    with_nodes(|nodes| async move {
        for (who, repo) in both(&nodes) {
            let slow_named = repo
                .transaction::<TagThenRun>(named(format!("{who}-named"), &["SELECT pg_sleep(30)"]))
                .timeout(DEADLINE)
                .await;
            assert_interrupted(&format!("{who} named transaction"), slow_named);
            let slow_batch = repo
                .call(
                    batch(vec![
                        step(
                            "tag",
                            &format!("INSERT INTO tags (name) VALUES ('{who}-batch')"),
                        ),
                        step("slow", SLOW_INSERT),
                    ]),
                    &within(DEADLINE),
                )
                .await;
            assert_interrupted(&format!("{who} batch"), slow_batch);
            assert_eq!(tags_like(&nodes.primary_db, who).await, 0, "{who}: nothing");
            // The node writes on at once: nothing was left holding its writer.
            repo.transaction::<TagThenRun>(named(format!("after-{who}"), &[]))
                .timeout(DEADLINE)
                .await
                .expect("a write after the interrupted ones");
        }
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            2
        );
        nodes
    });
}

#[test]
fn statements_that_each_fit_the_deadline_but_not_together_are_interrupted() {
    // Each statement takes 0.4 s, well inside the time a statement is given (0.9 s); five
    // of them take 2 s: the deadline bounds the write, not each statement.
    let sleeps = ["SELECT pg_sleep(0.4)"; 5];
    with_nodes(|nodes| async move {
        for (who, repo) in both(&nodes) {
            let result = repo
                .transaction::<TagThenRun>(named(format!("{who}-named"), &sleeps))
                .timeout(DEADLINE)
                .await;
            assert_interrupted(&format!("{who} named transaction"), result);
        }
        // A batch of such statements (locally: the allowlist refuses `pg_sleep` forwarded).
        let mut steps = vec![step(
            "tag",
            "INSERT INTO tags (name) VALUES ('local-batch')",
        )];
        steps.extend((0..5).map(|i| step(&format!("sleep-{i}"), sleeps[0])));
        let result = nodes
            .primary
            .repo()
            .call(batch(steps), &within(DEADLINE))
            .await;
        assert_interrupted("local batch", result);
        // A deadline beyond the connections' own statement_timeout (5 s), which then bounds
        // each statement: the deadline still bounds the whole write.
        let beyond = Duration::from_millis(5500);
        for (who, repo) in both(&nodes) {
            let result = repo
                .transaction::<TagThenRun>(named(
                    format!("{who}-beyond"),
                    &["SELECT pg_sleep(2)"; 4],
                ))
                .timeout(beyond)
                .await;
            assert_interrupted(&format!("{who} beyond statement_timeout"), result);
        }
        assert_eq!(
            scalar(&nodes.primary_db, "SELECT count(*) FROM tags").await,
            0
        );
        nodes
    });
}

#[test]
fn a_write_with_time_to_spare_commits() {
    with_nodes(|nodes| async move {
        for (who, repo) in both(&nodes) {
            let spare = Duration::from_secs(30);
            repo.transaction::<TagThenRun>(named(
                format!("{who}-named"),
                &["SELECT pg_sleep(0.3)", "SELECT pg_sleep(0.3)"],
            ))
            .timeout(spare)
            .await
            .expect("a named transaction within its deadline");
            repo.call(
                batch(vec![
                    step(
                        "a",
                        &format!("INSERT INTO tags (name) VALUES ('{who}-batch-a')"),
                    ),
                    step(
                        "b",
                        &format!("INSERT INTO tags (name) VALUES ('{who}-batch-b')"),
                    ),
                ]),
                &within(spare),
            )
            .await
            .expect("a batch within its deadline");
            repo.execute_raw(sql(&format!(
                "INSERT INTO tags (name) VALUES ('{who}-statement')"
            )))
            .await
            .expect("a statement under the default deadline");
            assert_eq!(tags_like(&nodes.primary_db, who).await, 4, "{who}");
        }
        nodes
    });
}

#[test]
fn an_interrupted_write_holds_no_lock_past_its_deadline() {
    with_nodes(|nodes| async move {
        nodes
            .primary
            .repo()
            .execute_raw(sql("INSERT INTO tags (name) VALUES ('contended')"))
            .await
            .expect("seed");
        for (who, repo) in both(&nodes) {
            // Locks the row, then sleeps far past its deadline (and past the connection's
            // own 5 s statement_timeout).
            let result = repo
                .transaction::<TagThenRun>(named(
                    format!("{who}-locker"),
                    &[
                        "UPDATE tags SET name = name WHERE name = 'contended'",
                        "SELECT pg_sleep(30)",
                    ],
                ))
                .timeout(DEADLINE)
                .await;
            assert_interrupted(&format!("{who} locker"), result);
            // Were the sleep still running, it would hold the row until the connection's
            // statement_timeout, and this write would run out of time waiting for it.
            let updated = repo
                .call(
                    Request::new(
                        Action::Execute,
                        "tags",
                        Operation::Execute(sql(
                            "UPDATE tags SET name = name WHERE name = 'contended'",
                        )),
                    ),
                    &within(2 * DEADLINE),
                )
                .await
                .unwrap_or_else(|e| panic!("{who}: the row is free again: {e:?}"));
            assert!(
                matches!(
                    updated.outcome,
                    Outcome::Executed(ExecSummary {
                        rows_affected: 1,
                        ..
                    })
                ),
                "{who}: {:?}",
                updated.outcome
            );
        }
        assert_eq!(tags_like(&nodes.primary_db, "").await, 1, "only the seed");
        nodes
    });
}

#[test]
fn an_interactive_transaction_is_stopped_at_its_maximum_duration() {
    with_nodes(|nodes| async move {
        let limits = TransactionLimits::default()
            .max_duration(DEADLINE)
            .max_idle(Duration::from_secs(30));
        for (who, repo) in both(&nodes) {
            let txn = repo.begin_with_limits(limits).await.expect("begin");
            txn.execute_unprepared(&format!("INSERT INTO tags (name) VALUES ('{who}')"))
                .await
                .expect("a quick statement");
            // A write that waits for the node's writer, which the transaction holds: it
            // gets it once the transaction is over, at its maximum duration, not when the
            // connection's own statement_timeout (5 s) would have stopped the statement.
            let waiting = tokio::spawn({
                let repo = repo.clone();
                let insert = format!("INSERT INTO tags (name) VALUES ('waited-{who}')");
                async move {
                    let request =
                        Request::new(Action::Execute, "tags", Operation::Execute(sql(&insert)));
                    repo.call(request, &within(3 * DEADLINE)).await
                }
            });
            let err = txn
                .execute_unprepared(SLOW_INSERT)
                .await
                .expect_err("stopped at the maximum duration");
            assert!(
                RepoTransaction::is_expired_error(&err)
                    && err.to_string().contains("maximum duration"),
                "{who}: expired at its maximum duration, not {err:?}"
            );
            assert!(txn.commit().await.is_err(), "{who}: over");
            waiting
                .await
                .expect("task")
                .unwrap_or_else(|e| panic!("{who}: the waiting write: {e:?}"));
            repo.execute_raw(sql(&format!(
                "INSERT INTO tags (name) VALUES ('after-{who}')"
            )))
            .await
            .expect("the writer is free");
        }
        assert_eq!(tags_like(&nodes.primary_db, "forwarded").await, 0);
        assert_eq!(tags_like(&nodes.primary_db, "local").await, 0);
        assert_eq!(tags_like(&nodes.primary_db, "waited-").await, 2);
        nodes
    });
}
