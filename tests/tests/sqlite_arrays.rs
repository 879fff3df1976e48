//! SQLite has no arrays. sea-orm's `Value::Array` exists in every build (its
//! `sqlx-postgres` feature turns `postgres-array` on) and sea-query's SQLite binder panics on
//! one; a write holding an array is refused with a typed error before anything is bound —
//! forwarded from a replica, run on the primary itself, or as a step of an interactive
//! transaction — and writes nothing.

use blog_example::entities::tag;
use repo_tests::cluster::Cluster;
use sea_orm::{
    ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait, Statement, TransactionSession,
    TransactionTrait, Value,
};

fn insert_with_array() -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO tags (name) VALUES (?)",
        [Value::from(vec!["a".to_owned(), "b".to_owned()])],
    )
}

fn assert_refused(err: &DbErr, path: &str) {
    let message = err.to_string();
    assert!(
        message.contains("invalid request") && message.contains("SQLite has no arrays"),
        "{path}: {err:?}"
    );
    assert!(!message.contains("panicked"), "{path}: {message}");
}

#[tokio::test]
async fn an_array_is_refused_on_sqlite_forwarded_local_and_interactive() {
    let cluster = Cluster::start(1).await;
    let forwarded = cluster
        .replica(1)
        .repo
        .execute_raw(insert_with_array())
        .await
        .expect_err("forwarded from a replica");
    assert_refused(&forwarded, "forwarded");
    let local = cluster
        .primary()
        .repo
        .execute_raw(insert_with_array())
        .await
        .expect_err("on the primary itself");
    assert_refused(&local, "local");
    let txn = cluster
        .replica(1)
        .repo
        .begin()
        .await
        .expect("an interactive transaction from the replica");
    let step = txn
        .execute_raw(insert_with_array())
        .await
        .expect_err("a step of an interactive transaction");
    assert_refused(&step, "interactive");
    txn.rollback().await.expect("rollback");
    let tags = tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(tags, 0);
}
