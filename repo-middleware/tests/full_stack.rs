//! The full default stack (telemetry → timeout → retry → breaker → executor) over a real
//! SQLite file: a write executes exactly once, and failures come back typed.

mod support;

use std::time::Duration;

use blog_example::entities::tag;
use migrations::{Migrator, MigratorTrait};
use repo_core::{Repo, RepoError};
use repo_middleware::{BreakerConfig, RetryConfig, StackConfig};
use sea_orm::{ActiveModelTrait, Database, EntityTrait, PaginatorTrait, Set, SqlErr};
use support::Counter;

/// A repository with the standard stack and, just above the executor, a counter of the
/// requests that reach it.
async fn repo() -> (tempfile::TempDir, Repo, Counter) {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("db.sqlite").display()
    );
    let db = Database::connect(&url).await.expect("open");
    Migrator::up(&db, None).await.expect("migrate");
    let mut builder = Repo::builder(db);
    for layer in StackConfig::default()
        .timeout(Duration::from_secs(5))
        .retry(RetryConfig::default().max_attempts(3))
        .breaker(BreakerConfig::default())
        .layers()
    {
        builder = builder.boxed_layer(layer);
    }
    let executed = Counter::default();
    (dir, builder.layer(executed.clone()).build(), executed)
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_write_through_the_full_stack_executes_exactly_once() {
    let (_dir, repo, executed) = repo().await;
    let called = Counter::default();
    let stored = repo
        .insert(new_tag("once"))
        .layer(called.clone())
        .await
        .expect("insert");
    assert_eq!(stored.name, "once");
    assert_eq!((called.load(), executed.load()), (1, 1));
    assert_eq!(
        tag::Entity::find()
            .count(repo.connection())
            .await
            .expect("count"),
        1
    );

    // Through `&repo` too.
    new_tag("twice")
        .insert(&repo)
        .await
        .expect("drop-in insert");
    assert_eq!(executed.load(), 2);
    assert_eq!(
        tag::Entity::find()
            .count(repo.connection())
            .await
            .expect("count"),
        2
    );
}

#[tokio::test]
async fn a_constraint_violation_is_returned_once_not_retried() {
    let (_dir, repo, executed) = repo().await;
    repo.insert(new_tag("dup")).await.expect("first");
    let err = repo.insert(new_tag("dup")).await.expect_err("duplicate");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{err:?}"
    );
    assert!(matches!(err, RepoError::Database(_)));
    assert_eq!(
        executed.load(),
        2,
        "the duplicate reached the executor once: not retried"
    );
    assert_eq!(
        tag::Entity::find()
            .count(repo.connection())
            .await
            .expect("count"),
        1
    );
}
