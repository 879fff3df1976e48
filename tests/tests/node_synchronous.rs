//! `NodeConfig::synchronous`: a node that opens its own file opens it with the `synchronous`
//! it is given (the local cluster's `OFF`), and its writer keeps it; without the setting,
//! SQLite's default (`FULL`) stays, as on a LiteFS deployment.

use std::time::Duration;

use repo_core::Repo;
use repo_litefs::tracker::PrimaryTracker;
use repo_litefs::{ClusterSecret, Endpoints};
use repo_tests::cluster::{SECRET, state_for};
use sea_orm::sqlx::sqlite::SqliteSynchronous;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// `PRAGMA name` as the writer connection answers it.
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

/// Starts a lone primary node on a fresh file, `synchronous` if given; returns the
/// application connection's and the writer's `synchronous`.
async fn settings(synchronous: Option<SqliteSynchronous>) -> (i64, sea_orm::Value) {
    let dir = tempfile::tempdir().expect("dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tracker, _handle) = PrimaryTracker::manual(state_for("node-1", "node-1"));
    let mut config = repo_litefs::NodeConfig::new(
        "node-1",
        dir.path().join("app.db"),
        Endpoints::map([("node-1", format!("http://{addr}"))]),
        ClusterSecret::new(SECRET).expect("secret"),
    )
    .tracker(tracker)
    .stack(None)
    .primary_wait(Duration::from_millis(300));
    if let Some(s) = synchronous {
        config = config.synchronous(s);
    }
    let node = repo_litefs::Node::start(config, listener)
        .await
        .expect("node starts");
    let row = node
        .db()
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA synchronous",
        ))
        .await
        .expect("pragma")
        .expect("a row");
    let app: i64 = row.try_get_by_index(0).expect("an integer");
    let writer = writer_setting(node.repo(), "synchronous").await;
    (app, writer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_opens_its_file_with_the_synchronous_it_is_given() {
    // OFF is 0, FULL is 2 (SQLite's numbering).
    let (app, writer) = settings(Some(SqliteSynchronous::Off)).await;
    assert_eq!(app, 0, "the application's connections");
    assert_eq!(writer, sea_orm::Value::BigInt(Some(0)), "the writer");
    let (app, writer) = settings(None).await;
    assert_eq!(app, 2, "SQLite's default without the setting");
    assert_eq!(writer, sea_orm::Value::BigInt(Some(2)));
}
