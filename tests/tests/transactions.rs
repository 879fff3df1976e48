//! Named transactions and `Multi` commit all or nothing.

use blog_example::entities::{post, post_tag, tag};
use blog_example::transactions::{self, CreatePostWithTags, NewPost, PublishPost};
use repo_core::{Action, Multi, NamedTransaction, Operation, Repo, RepoError, Request};
use repo_tests::db;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QueryFilter, Set, SqlErr,
};

fn new_post(slug: &str, tags: &[&str]) -> NewPost {
    NewPost {
        title: format!("Title {slug}"),
        slug: slug.into(),
        body: "body".into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

async fn blog_repo() -> (db::TestDb, Repo) {
    let db = db::fresh().await;
    let repo = transactions::register(Repo::builder(db.conn.clone())).build();
    (db, repo)
}

#[tokio::test]
async fn named_transaction_commits_everything() {
    let (_db, repo) = blog_repo().await;
    let post = repo
        .transaction::<CreatePostWithTags>(new_post("p", &["a", "b"]))
        .await
        .expect("create");
    assert_eq!(post.slug, "p");
    assert_eq!(repo.count(tag::Entity::find()).await.expect("tags"), 2);
    assert_eq!(
        repo.count(post_tag::Entity::find()).await.expect("links"),
        2
    );

    let published = repo
        .transaction::<PublishPost>(post.id)
        .await
        .expect("publish");
    assert!(published.published);
    assert_eq!(published.view_count, 1);
    assert!(published.published_at.is_some());
}

#[tokio::test]
async fn named_transaction_rolls_back_everything_on_error() {
    let (_db, repo) = blog_repo().await;
    repo.transaction::<CreatePostWithTags>(new_post("p", &[]))
        .await
        .expect("first");
    // Same slug: the post insert fails after nothing else; then a case failing late.
    let err = repo
        .transaction::<CreatePostWithTags>(new_post("p", &["x"]))
        .await
        .expect_err("dup");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{err}"
    );
    assert!(
        matches!(err, RepoError::TransactionFailed { ref name, .. } if name == CreatePostWithTags::NAME)
    );
    assert_eq!(
        repo.count(tag::Entity::find()).await.expect("tags"),
        0,
        "no tag from the failed call"
    );

    /// Writes a tag, then fails: the tag must not survive.
    struct WriteThenFail;
    impl NamedTransaction for WriteThenFail {
        const NAME: &'static str = "write_then_fail";
        type Args = ();
        type Output = ();
        async fn run(txn: &DatabaseTransaction, (): ()) -> Result<(), DbErr> {
            use sea_orm::ActiveModelTrait;
            tag::ActiveModel {
                name: Set("doomed".into()),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            Err(DbErr::Custom("changed my mind".into()))
        }
    }
    let db = db::fresh().await;
    let repo = Repo::builder(db.conn.clone())
        .transaction::<WriteThenFail>()
        .build();
    let err = repo
        .transaction::<WriteThenFail>(())
        .await
        .expect_err("fails");
    assert!(err.to_string().contains("changed my mind"), "{err}");
    assert_eq!(repo.count(tag::Entity::find()).await.expect("tags"), 0);
}

#[tokio::test]
async fn unknown_transaction_is_a_clear_error() {
    let db = db::fresh().await;
    let repo = Repo::new(db.conn.clone());
    let err = repo
        .transaction::<PublishPost>(1)
        .await
        .expect_err("not registered");
    assert!(matches!(err, RepoError::UnknownTransaction(ref n) if n == "publish_post.v1"));
    assert!(err.to_string().contains("register it"), "{err}");

    // The executor refuses a name it does not know, as a forwarded request would carry.
    let request = Request::new(
        Action::Transaction("nope".into()),
        "nope",
        Operation::Transaction {
            name: "nope".into(),
            args: b"null".to_vec(),
        },
    );
    let err = repo.executor().execute(request).await.expect_err("unknown");
    assert!(matches!(err, RepoError::UnknownTransaction(ref n) if n == "nope"));
}

#[tokio::test]
async fn bad_transaction_arguments_are_a_codec_error_and_write_nothing() {
    let (_db, repo) = blog_repo().await;
    let request = Request::new(
        Action::Transaction(CreatePostWithTags::NAME.into()),
        CreatePostWithTags::NAME,
        Operation::Transaction {
            name: CreatePostWithTags::NAME.into(),
            args: b"{\"title\": 3}".to_vec(),
        },
    );
    let err = repo
        .executor()
        .execute(request)
        .await
        .expect_err("bad args");
    assert!(matches!(err, RepoError::Codec(_)), "{err:?}");
    assert_eq!(repo.count(post::Entity::find()).await.expect("posts"), 0);
}

fn post_am(slug: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(slug.to_uppercase()),
        slug: Set(slug.into()),
        body: Set("b".into()),
        created_at: Set(chrono::NaiveDateTime::default()),
        updated_at: Set(chrono::NaiveDateTime::default()),
        ..Default::default()
    }
}

#[tokio::test]
async fn multi_commits_every_step_and_reports_each() {
    let (_db, repo) = blog_repo().await;
    let seed = repo.insert(post_am("old")).await.expect("seed");
    let mut renamed = seed.clone().into_active_model();
    renamed.title = Set("Renamed".into());
    let done = repo
        .multi(
            Multi::new()
                .insert("post", post_am("new"))
                .update("rename", renamed)
                .insert_all(
                    "tags",
                    tag::Entity::insert_many(["a", "b"].map(|n| tag::ActiveModel {
                        name: Set(n.into()),
                        ..Default::default()
                    })),
                )
                .update_all(
                    "archive",
                    post::Entity::update_many()
                        .col_expr(post::Column::Archived, Expr::value(true))
                        .filter(post::Column::Slug.eq("old")),
                )
                .delete_all(
                    "none",
                    tag::Entity::delete_many().filter(tag::Column::Name.eq("zzz")),
                ),
        )
        .await
        .expect("multi");
    let inserted: post::Model = done.model::<post::Entity>("post").await.expect("post row");
    assert_eq!(inserted.slug, "new");
    assert_eq!(
        done.model::<post::Entity>("rename")
            .await
            .expect("row")
            .title,
        "Renamed"
    );
    assert_eq!(done.rows_affected("tags").expect("count"), 2);
    assert_eq!(done.rows_affected("archive").expect("count"), 1);
    assert_eq!(done.rows_affected("none").expect("count"), 0);
    assert_eq!(
        repo.get::<post::Entity>(inserted.id).await.expect("get"),
        Some(inserted)
    );
    assert!(
        repo.get::<post::Entity>(seed.id)
            .await
            .expect("get")
            .is_some_and(|p| p.archived)
    );
}

#[tokio::test]
async fn multi_rolls_back_every_step_when_one_fails() {
    let (_db, repo) = blog_repo().await;
    repo.insert(post_am("taken")).await.expect("seed");
    let err = repo
        .multi(
            Multi::new()
                .insert_all(
                    "tags",
                    tag::Entity::insert_many(["a"].map(|n| tag::ActiveModel {
                        name: Set(n.into()),
                        ..Default::default()
                    })),
                )
                .insert("fresh", post_am("fresh"))
                .insert("clash", post_am("taken")),
        )
        .await
        .expect_err("unique violation in the last step");
    assert!(
        matches!(err, RepoError::MultiStep { ref step, .. } if step == "clash"),
        "{err:?}"
    );
    assert!(matches!(
        err.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_))
    ));
    assert_eq!(repo.count(tag::Entity::find()).await.expect("tags"), 0);
    assert_eq!(repo.count(post::Entity::find()).await.expect("posts"), 1);

    // A step that must touch a row and touches none also rolls everything back.
    let ghost = tag::ActiveModel {
        id: Set(777),
        name: Set("ghost".into()),
    };
    let err = repo
        .multi(
            Multi::new()
                .insert("fresh", post_am("fresh"))
                .delete("ghost", ghost),
        )
        .await
        .expect_err("nothing to delete");
    assert!(
        matches!(err, RepoError::MultiStep { ref step, .. } if step == "ghost"),
        "{err:?}"
    );
    assert_eq!(repo.count(post::Entity::find()).await.expect("posts"), 1);
}

#[tokio::test]
async fn invalid_multis_are_refused_before_running() {
    let (_db, repo) = blog_repo().await;
    let err = repo.multi(Multi::new()).await.expect_err("empty");
    assert!(matches!(err, RepoError::InvalidRequest(_)));
    let err = repo
        .multi(
            Multi::new()
                .insert("p", post_am("a"))
                .insert("p", post_am("b")),
        )
        .await
        .expect_err("duplicate names");
    assert!(err.to_string().contains("two steps are named `p`"), "{err}");
    let no_key = post::ActiveModel {
        title: Set("x".into()),
        ..Default::default()
    };
    let err = repo
        .multi(Multi::new().update("u", no_key))
        .await
        .expect_err("no primary key");
    assert!(matches!(err, RepoError::InvalidRequest(_)), "{err:?}");
    assert_eq!(repo.count(post::Entity::find()).await.expect("posts"), 0);
}

#[tokio::test]
async fn executor_answers_a_batch_with_one_outcome_per_step() {
    let (_db, repo) = blog_repo().await;
    let done = repo
        .multi(
            Multi::new()
                .insert("a", post_am("a"))
                .insert("b", post_am("b")),
        )
        .await
        .expect("multi");
    assert_eq!(done.rows_affected("a").expect("a"), 1);
    assert!(matches!(
        done.rows_affected("zzz"),
        Err(RepoError::InvalidRequest(_))
    ));
}
