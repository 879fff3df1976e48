//! No single request may stall or crash the primary: a runaway statement is interrupted
//! within its budget (forwarded or local) and the primary goes on serving reads and writes;
//! a panic while running one write fails that write only.
//!
//! Each test has a hang guard (`guard`): without the defences these tests hang forever
//! (a runaway statement holds SQLite's write lock), so the guard turns a hang into a failure.
//! The guard is a liveness check far above any budget, not a timing assertion.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use blog_example::entities::tag;
use repo_core::{NamedTransaction, Repo, RepoError, WriterConfig};
use repo_litefs::tracker::{PrimaryTracker, Role};
use repo_litefs::{
    ClusterSecret, Endpoints, ForwardConfig, ForwardLayer, ForwardServer, ServerConfig,
};
use repo_tests::cluster::{SECRET, blog_builder, migrated, state_for};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, Set, Statement,
};
use tempfile::TempDir;

/// The primary's maximum statement time in these tests.
const BUDGET: Duration = Duration::from_millis(300);

/// A statement the allowlist accepts that would run for hours: a five-way cartesian
/// product of 100 tags (10^10 rows) filtered on a computed value no index can serve.
const RUNAWAY: &str = "INSERT INTO tags (name) SELECT a.name FROM tags a, tags b, tags c, \
                       tags d, tags e WHERE a.name || b.name || c.name || d.name || e.name = '-'";

/// A named transaction that panics on the node that runs it.
struct Panics;

impl NamedTransaction for Panics {
    const NAME: &'static str = "test.panics.v1";
    type Args = ();
    type Output = ();

    async fn run(_: &DatabaseTransaction, (): ()) -> Result<(), DbErr> {
        panic!("a bug in a named transaction")
    }
}

/// One primary and one read-only replica that forwards to it.
struct Pair {
    primary: Repo,
    primary_db: DatabaseConnection,
    replica: Repo,
    _stop: tokio::sync::oneshot::Sender<()>,
    _dir: TempDir,
}

async fn pair(writer: WriterConfig) -> Pair {
    pair_with(writer, |config| config).await
}

async fn pair_with(
    writer: WriterConfig,
    server: impl FnOnce(ServerConfig) -> ServerConfig,
) -> Pair {
    let dir = tempfile::tempdir().expect("dir");
    let primary_path = dir.path().join("node-1.db");
    let primary_db = migrated(&primary_path).await;
    let replica_path = dir.path().join("node-2.db");
    std::fs::copy(&primary_path, &replica_path).expect("copy");
    let replica_db = Database::connect(format!("sqlite://{}?mode=ro", replica_path.display()))
        .await
        .expect("replica");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoints = Endpoints::map([(
        "node-1".to_owned(),
        format!("http://{}", listener.local_addr().expect("addr")),
    )]);
    let secret = ClusterSecret::new(SECRET).expect("secret");

    let (primary_tracker, _h1) = PrimaryTracker::manual(state_for("node-1", "node-1"));
    assert_eq!(primary_tracker.current().role, Role::Primary);
    let primary = blog_builder(primary_db.clone())
        .transaction::<Panics>()
        .writer(writer)
        .build();
    let server = ForwardServer::new(
        primary.executor(),
        primary_tracker,
        server(ServerConfig::new(secret.clone(), "node-1")),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve(listener, async move {
        let _ = stopped.await;
    }));
    std::mem::forget(_h1);

    let (replica_tracker, h2) = PrimaryTracker::manual(state_for("node-2", "node-1"));
    std::mem::forget(h2);
    let forward = ForwardLayer::new(ForwardConfig::new(
        replica_tracker,
        endpoints,
        secret,
        "node-2",
    ));
    let replica = blog_builder(replica_db)
        .transaction::<Panics>()
        .layer(forward)
        .build();
    seed_tags(&primary_db).await;
    Pair {
        primary,
        primary_db,
        replica,
        _stop: stop,
        _dir: dir,
    }
}

async fn seed_tags(db: &DatabaseConnection) {
    let values = (0..100)
        .map(|i| format!("('seed-{i}')"))
        .collect::<Vec<_>>();
    db.execute_unprepared(&format!(
        "INSERT INTO tags (name) VALUES {}",
        values.join(",")
    ))
    .await
    .expect("seed");
}

/// Fails the test instead of hanging when `work` does not finish.
async fn guard<T>(what: &str, work: impl IntoFuture<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), work.into_future())
        .await
        .unwrap_or_else(|_| panic!("{what} hung: the primary is stalled"))
}

fn runaway() -> Statement {
    Statement::from_string(DbBackend::Sqlite, RUNAWAY)
}

async fn tags(db: &DatabaseConnection) -> u64 {
    tag::Entity::find().count(db).await.expect("count")
}

/// After a runaway statement, the primary still answers a local read, a local write and a
/// forwarded write, and the runaway wrote nothing.
async fn primary_still_serves(pair: &Pair, label: &str) {
    let before = guard("a local read", tags(&pair.primary_db)).await;
    assert_eq!(before, 100, "the interrupted statement wrote nothing");
    let local = tag::ActiveModel {
        name: Set(format!("local-{label}")),
        ..Default::default()
    };
    guard("a local write", pair.primary.insert(local))
        .await
        .expect("local write after the runaway");
    let forwarded = tag::ActiveModel {
        name: Set(format!("forwarded-{label}")),
        ..Default::default()
    };
    guard("a forwarded write", pair.replica.insert(forwarded))
        .await
        .expect("forwarded write after the runaway");
    assert_eq!(tags(&pair.primary_db).await, 102);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_runaway_is_interrupted_at_the_maximum_statement_time() {
    let pair = pair(WriterConfig::default().max_statement_time(BUDGET)).await;
    let started = Instant::now();
    let err = guard("the runaway", pair.replica.execute_raw(runaway()))
        .await
        .expect_err("interrupted");
    println!("forwarded runaway answered after {:?}", started.elapsed());
    assert!(
        err.to_string().contains("maximum statement time"),
        "a typed interruption reaches the replica: {err}"
    );
    primary_still_serves(&pair, "a").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_runaway_reports_interrupted_not_committed_and_is_not_retried() {
    let pair = pair(WriterConfig::default().max_statement_time(BUDGET)).await;
    let err = guard(
        "the runaway",
        pair.replica.update_all(
            tag::Entity::update_many()
                .col_expr(
                    tag::Column::Name,
                    sea_orm::sea_query::Expr::cust(
                        "(SELECT count(*) FROM tags a, tags b, tags c, tags d, tags e)",
                    ),
                )
                .filter(sea_orm::sea_query::Expr::cust("1 = 1")),
        ),
    )
    .await
    .expect_err("interrupted");
    assert!(
        matches!(err, RepoError::Interrupted { limit } if limit == BUDGET),
        "typed: {err:?}"
    );
    assert_eq!(err.commit_state(), repo_core::CommitState::NotCommitted);
    assert!(
        !err.is_transient(),
        "the same statement would run out again"
    );
    primary_still_serves(&pair, "b").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_runaway_on_the_primary_is_interrupted_too() {
    let pair = pair(WriterConfig::default().max_statement_time(BUDGET)).await;
    let err = guard("the runaway", pair.primary.execute_raw(runaway()))
        .await
        .expect_err("interrupted");
    assert!(err.to_string().contains("maximum statement time"), "{err}");
    primary_still_serves(&pair, "c").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_gives_up_does_not_leave_its_statement_running() {
    // A generous statement time: only the caller's own deadline can stop the runaway.
    let pair = pair(WriterConfig::default().max_statement_time(Duration::from_secs(600))).await;
    let err = guard(
        "the runaway",
        pair.replica.call(
            repo_core::Request::new(
                repo_core::Action::Execute,
                "tags",
                repo_core::Operation::Execute(runaway()),
            ),
            &repo_core::CallOptions {
                timeout: Some(BUDGET),
                ..Default::default()
            },
        ),
    )
    .await
    .expect_err("deadline");
    // The caller's own deadline: the primary's answer, or the client's timer, whichever
    // comes first; either way the caller cannot know more than "not committed, or unknown".
    assert!(
        matches!(
            err,
            RepoError::Timeout { .. } | RepoError::Unreachable { .. }
        ),
        "{err:?}"
    );
    assert_ne!(err.commit_state(), repo_core::CommitState::Committed);
    // Without the budget, the runaway would hold the write lock for 600 s and these hang.
    primary_still_serves(&pair, "d").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_write_fails_alone_and_the_primary_keeps_serving() {
    let pair = pair(WriterConfig::default()).await;
    // Concurrent plain writes keep the group committer busy while the panics happen.
    let mut writers = Vec::new();
    for i in 0..16 {
        let replica = pair.replica.clone();
        writers.push(tokio::spawn(async move {
            replica
                .insert(tag::ActiveModel {
                    name: Set(format!("concurrent-{i}")),
                    ..Default::default()
                })
                .await
        }));
    }
    for repo in [&pair.replica, &pair.primary] {
        let err = guard("the panicking transaction", repo.transaction::<Panics>(()))
            .await
            .expect_err("panicked");
        assert!(matches!(err, RepoError::Internal { .. }), "{err:?}");
    }
    for writer in writers {
        guard("a concurrent write", writer)
            .await
            .expect("task")
            .expect("concurrent writes are not affected");
    }
    assert_eq!(tags(&pair.primary_db).await, 116);
    primary_still_serves_after_panic(&pair).await;
}

async fn primary_still_serves_after_panic(pair: &Pair) {
    for i in 0..3 {
        guard(
            "a write after the panic",
            pair.replica.insert(tag::ActiveModel {
                name: Set(format!("after-{i}")),
                ..Default::default()
            }),
        )
        .await
        .expect("written");
    }
    assert_eq!(tags(&pair.primary_db).await, 119);
}

#[tokio::test]
async fn sqlite_limits_bound_what_one_statement_can_store() {
    let pair = pair(WriterConfig::default()).await;
    // 75 bytes of SQL asking for 64 MiB: over the default 16 MiB value limit. Forwarded, the
    // allowlist refuses `zeroblob` before it runs; the limit holds for every write of the
    // node, its own (local) ones included.
    let err = guard(
        "the zeroblob",
        pair.primary.execute_raw(Statement::from_string(
            DbBackend::Sqlite,
            "INSERT INTO tags (name) VALUES (zeroblob(67108864))",
        )),
    )
    .await
    .expect_err("too big");
    assert!(err.to_string().contains("too big"), "{err}");
    let stored: Option<i64> = pair
        .primary_db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT max(length(name)) FROM tags",
        ))
        .await
        .expect("query")
        .and_then(|row| row.try_get_by_index(0).ok());
    assert!(stored.unwrap_or(0) < 1024, "nothing large stored");
    let ok = tag::ActiveModel {
        name: Set("small".into()),
        ..Default::default()
    };
    ok.insert(&pair.replica)
        .await
        .expect("ordinary writes pass");
}

#[tokio::test]
async fn without_a_ledger_a_constraint_violation_is_a_plain_database_error() {
    let pair = pair_with(WriterConfig::default(), |config| config.ledger(false)).await;
    // A primary without a ledger need not have its table.
    pair.primary_db
        .execute_unprepared("DROP TABLE litefs_ledger")
        .await
        .expect("drop");
    let duplicate = tag::ActiveModel {
        name: Set("seed-1".into()),
        ..Default::default()
    };
    let err = pair.replica.insert(duplicate).await.expect_err("unique");
    assert!(
        matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ),
        "a unique violation, not 'may have committed': {err:?}"
    );
    assert_eq!(err.commit_state(), repo_core::CommitState::NotCommitted);
    assert_eq!(tags(&pair.primary_db).await, 100);
}

/// The looping statement: a recursive CTE that never ends.
const LOOPING_CTE: &str = "INSERT INTO tags (name) WITH RECURSIVE c(n) AS \
                           (SELECT 1 UNION ALL SELECT n+1 FROM c) SELECT n FROM c WHERE n < 0";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recursive_ctes_are_refused_by_default_and_interrupted_when_allowed() {
    let pair = pair(WriterConfig::default().max_statement_time(BUDGET)).await;
    let cte = || Statement::from_string(DbBackend::Sqlite, LOOPING_CTE);
    let err = guard("the refusal", pair.replica.execute_raw(cte()))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("recursive"), "{err}");
    primary_still_serves(&pair, "e").await;

    let allowing = pair_with(
        WriterConfig::default().max_statement_time(BUDGET),
        |config| {
            config.allowlist(
                repo_litefs::allowlist::AllowlistPolicy::default().allow_recursive_cte(true),
            )
        },
    )
    .await;
    let err = guard("the allowed loop", allowing.replica.execute_raw(cte()))
        .await
        .expect_err("interrupted");
    assert!(err.to_string().contains("maximum statement time"), "{err}");
    primary_still_serves(&allowing, "f").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_and_huge_statements_are_refused_and_the_primary_lives_on() {
    let pair = pair(WriterConfig::default()).await;
    let hostile = [
        format!("UPDATE tags SET name = 1{}", "+1".repeat(100_000)),
        format!(
            "UPDATE tags SET name = {}1{}",
            "(".repeat(500_000),
            ")".repeat(500_000)
        ),
        format!("UPDATE tags SET name = 1{}", " COLLATE x".repeat(20_000)),
    ];
    for sql in hostile {
        let err = guard(
            "a hostile statement",
            pair.replica
                .execute_raw(Statement::from_string(DbBackend::Sqlite, sql)),
        )
        .await
        .expect_err("refused");
        assert!(
            matches!(err, sea_orm::DbErr::Custom(ref m) if m.contains("refused") && m.len() < 600),
            "a bounded refusal: {err}"
        );
    }
    primary_still_serves(&pair, "g").await;
}

/// What the writer connection says `PRAGMA name` is.
async fn writer_setting(repo: &Repo, name: &str) -> sea_orm::Value {
    let request = repo_core::Request::new(
        repo_core::Action::Execute,
        "",
        repo_core::Operation::Query {
            statement: Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {name}")),
            shape: None,
            fetch: repo_core::Fetch::One,
        },
    );
    match repo
        .executor()
        .execute(request)
        .await
        .expect("pragma")
        .outcome
    {
        repo_core::Outcome::Rows(rows) => rows[0].values[0].clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_writer_keeps_the_applications_connection_settings() {
    let pair = pair(WriterConfig::default()).await;
    // Set on the application's own (single) connection before the writer first connects.
    pair.primary_db
        .execute_unprepared("PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 1234;")
        .await
        .expect("pragmas");
    let fresh = blog_builder(pair.primary_db.clone()).build();
    assert_eq!(
        writer_setting(&fresh, "synchronous").await,
        sea_orm::Value::BigInt(Some(1))
    );
    assert_eq!(
        writer_setting(&fresh, "busy_timeout").await,
        sea_orm::Value::BigInt(Some(1234))
    );
    assert_eq!(
        writer_setting(&fresh, "foreign_keys").await,
        sea_orm::Value::BigInt(Some(1))
    );
}

#[tokio::test]
async fn database_errors_quoting_hostile_names_come_back_bounded_and_typed() {
    let pair = pair(WriterConfig::default()).await;
    let huge = "y".repeat(900_000);
    for table in ["a\u{1b}[31m\nFAKE", huge.as_str()] {
        let sql = format!("INSERT INTO \"{table}\" (name) VALUES (1)");
        let err = guard(
            "the refusal",
            pair.replica
                .execute_raw(Statement::from_string(DbBackend::Sqlite, sql)),
        )
        .await
        .expect_err("no such table");
        let message = err.to_string();
        assert!(
            message.contains("no such table"),
            "a database error, typed: {message}"
        );
        assert!(message.len() < 8_192, "bounded: {} bytes", message.len());
    }
    primary_still_serves(&pair, "h").await;
}

#[tokio::test]
async fn statements_sqlite_would_read_differently_or_that_run_inside_one_c_call_are_refused() {
    let pair = pair(WriterConfig::default()).await;
    for sql in [
        // SQLite stops at the NUL; sqlx's prepare loop never ends on it.
        "INSERT INTO tags (name) VALUES ('nul') -- \0",
        "DELETE FROM sqlite_sequence -- \0\n.tags",
        // One C call of these cannot be interrupted by the statement budget.
        "INSERT INTO tags (name) SELECT instr('aaaa', 'b')",
        "INSERT INTO tags (name) SELECT replace('a', 'a', 'b')",
        "INSERT INTO tags (name) SELECT length(randomblob(10000000))",
        "INSERT INTO tags (name) SELECT printf('%.*c', 1000000, 'x')",
    ] {
        let err = guard(
            "the refusal",
            pair.replica
                .execute_raw(Statement::from_string(DbBackend::Sqlite, sql)),
        )
        .await
        .expect_err(sql);
        assert!(err.to_string().contains("refused"), "{sql:?}: {err}");
    }
    // A LIKE pattern over SQLite's pattern limit: refused by SQLite, not a stack overflow.
    let pattern = format!("{}b", "%a".repeat(20_000));
    let err = guard(
        "the LIKE",
        pair.replica.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "UPDATE tags SET name = name WHERE name LIKE ?",
            [pattern.into()],
        )),
    )
    .await
    .expect_err("pattern too complex");
    assert!(err.to_string().contains("too complex"), "{err}");
    primary_still_serves(&pair, "i").await;
}
