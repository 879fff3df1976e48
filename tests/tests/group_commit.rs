//! Group commit: writes that arrive together (statements, named transactions) commit
//! together, and each still gets exactly the result it would have got alone.

use blog_example::entities::tag;
use repo_core::{Operation, Outcome, RepoError, Request};
use repo_tests::cluster::Cluster;
use repo_tests::db;
use repo_tests::requests::insert_tag;
use sea_orm::{EntityTrait, PaginatorTrait, Set, SqlErr};

#[tokio::test]
async fn a_group_gives_each_write_its_own_result() {
    let db = db::fresh().await;
    let executor = repo_core::Repo::new(db.conn.clone()).executor();
    let results = executor
        .execute_group(["a", "b", "c"].map(insert_tag).to_vec())
        .await;
    let ids: Vec<u64> = results
        .into_iter()
        .map(|r| match r.expect("ok").outcome {
            Outcome::Executed(s) => s.last_insert_id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 2, 3]);
}

#[tokio::test]
async fn one_failing_write_does_not_change_the_others() {
    let db = db::fresh().await;
    let executor = repo_core::Repo::new(db.conn.clone()).executor();
    let results = executor
        .execute_group(["a", "b", "a", "c"].map(insert_tag).to_vec())
        .await;
    assert!(
        results[0].is_ok() && results[1].is_ok() && results[3].is_ok(),
        "{results:?}"
    );
    let err = results[2].as_ref().expect_err("duplicate");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{err:?}"
    );
    assert_eq!(tag::Entity::find().count(&db.conn).await.expect("count"), 3);
}

#[tokio::test]
async fn concurrent_forwarded_writes_are_all_answered_correctly() {
    let cluster = Cluster::start(1).await;
    let replica = cluster.replica(1).repo.clone();
    let writes = (0..64).map(|i| {
        let repo = replica.clone();
        // Every eighth name repeats an earlier one: a unique violation in the crowd.
        let name = if i % 8 == 7 {
            format!("t{}", i - 1)
        } else {
            format!("t{i}")
        };
        tokio::spawn(async move {
            repo.insert(tag::ActiveModel {
                name: Set(name),
                ..Default::default()
            })
            .await
        })
    });
    let results = futures::future::join_all(writes).await;
    let (mut ok, mut dup) = (0, 0);
    for r in results {
        match r.expect("join") {
            Ok(_) => ok += 1,
            Err(e @ RepoError::Database(_))
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                dup += 1
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((ok, dup), (56, 8));
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        56
    );
}

/// Panics in `before` for the request whose statement carries `name`.
struct PanicsOn(&'static str);

impl repo_core::spi::TransactionHook for PanicsOn {
    fn before<'a>(
        &'a self,
        _: &'a sea_orm::DatabaseTransaction,
        request: &'a Request,
    ) -> futures::future::BoxFuture<'a, Result<Option<repo_core::Response>, RepoError>> {
        Box::pin(async move {
            if let Operation::Execute(stmt) = &request.operation
                && stmt.values.as_ref().is_some_and(|v| {
                    v.0.contains(&sea_orm::Value::String(Some(self.0.to_owned())))
                })
            {
                panic!("a bug while running {}", self.0);
            }
            Ok(None)
        })
    }

    fn after<'a>(
        &'a self,
        _: &'a sea_orm::DatabaseTransaction,
        _: &'a Request,
        _: &'a repo_core::Response,
    ) -> futures::future::BoxFuture<'a, Result<(), RepoError>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn a_panic_in_one_group_fails_only_its_culprit_and_later_groups_work() {
    let db = db::fresh().await;
    let executor = repo_core::Repo::new(db.conn.clone()).executor();
    let hook = PanicsOn("boom");
    let results = executor
        .execute_group_with(["a", "boom", "c"].map(insert_tag).to_vec(), &hook)
        .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(RepoError::Internal { .. })),
        "{results:?}"
    );
    // The next groups, on the same executor and writer, work as before.
    for names in [["d", "e"], ["f", "g"]] {
        let results = executor
            .execute_group_with(names.map(insert_tag).to_vec(), &hook)
            .await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    }
    assert_eq!(tag::Entity::find().count(&db.conn).await.expect("count"), 6);
}

/// `create_post_with_tags.v1` creating a post with slug `slug`, as a request.
fn create_post(slug: &str) -> Request {
    let args = blog_example::transactions::NewPost {
        title: slug.to_owned(),
        slug: slug.to_owned(),
        body: "Grouped.".to_owned(),
        tags: vec!["shared".to_owned()],
    };
    let name = "create_post_with_tags.v1";
    Request::new(
        repo_core::Action::Transaction(name.to_owned()),
        name,
        Operation::Transaction {
            name: name.to_owned(),
            args: serde_json::to_vec(&args).expect("json"),
        },
    )
}

#[tokio::test]
async fn named_transactions_that_arrive_together_commit_once() {
    let db = db::fresh().await;
    // Counts what the writer asks its guard: once when a turn starts and once at each
    // commit (SQLite's commit hook); a write alone costs 2, a group of any size 2.
    let commits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = commits.clone();
    let guard = repo_core::CommitGuard::new(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    });
    let repo = repo_tests::cluster::blog_builder(db.conn.clone())
        .writer(repo_core::WriterConfig::default().commit_guard(guard))
        .build();
    // A first write alone opens the writer (its setup commits too), then the count starts.
    repo.executor()
        .execute(insert_tag("warm-up"))
        .await
        .expect("warm-up");
    commits.store(0, std::sync::atomic::Ordering::SeqCst);
    let results = repo
        .executor()
        .execute_group(["p1", "p2", "p3"].map(create_post).to_vec())
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(
        commits.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "three transactions, one turn and one commit (alone: 6)"
    );
    // A failing one (a slug taken) rolls the group back; each then gets its own answer.
    let results = repo
        .executor()
        .execute_group(["p4", "p1", "p5"].map(create_post).to_vec())
        .await;
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    let err = results[1].as_ref().expect_err("duplicate slug");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{err:?}"
    );
    let posts = blog_example::entities::post::Entity::find()
        .count(&db.conn)
        .await
        .expect("count");
    assert_eq!(posts, 5, "each post once");
}
