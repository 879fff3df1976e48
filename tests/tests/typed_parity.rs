//! Every typed write returns exactly what the same sea-orm operation returns directly, on a
//! twin database: same rows, same ids, same errors.

use blog_example::entities::{comment, post, tag};
use chrono::NaiveDateTime;
use repo_core::{Repo, RepoError};
use repo_tests::db;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel, NotSet, QueryFilter, Set,
    SqlErr,
};

fn new_post(slug: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(format!("Title {slug}")),
        slug: Set(slug.to_owned()),
        body: Set("body".into()),
        ..Default::default()
    }
}

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        id: NotSet,
        name: Set(name.to_owned()),
    }
}

/// Posts carry `now()` timestamps from their `before_save` hook; compare the rest.
fn timeless(mut p: post::Model) -> post::Model {
    p.created_at = NaiveDateTime::default();
    p.updated_at = NaiveDateTime::default();
    p
}

#[tokio::test]
async fn insert_update_delete_match_sea_orm() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());

    let a = new_post("a").insert(&raw.conn).await.expect("raw insert");
    let b = repo.insert(new_post("a")).await.expect("repo insert");
    assert_eq!(timeless(b.clone()), timeless(a.clone()));
    assert_ne!(
        b.created_at,
        NaiveDateTime::default(),
        "the before_save hook ran"
    );

    let mut am = a.into_active_model();
    am.title = Set("Renamed".into());
    let a = am.update(&raw.conn).await.expect("raw update");
    let mut am = b.into_active_model();
    am.title = Set("Renamed".into());
    let b = repo.update(am).await.expect("repo update");
    assert_eq!(timeless(b.clone()), timeless(a.clone()));

    let raw_deleted = a
        .into_active_model()
        .delete(&raw.conn)
        .await
        .expect("raw delete");
    let deleted = repo
        .delete(b.into_active_model())
        .await
        .expect("repo delete");
    assert_eq!(deleted.rows_affected, raw_deleted.rows_affected);
    assert_eq!(repo.count(post::Entity::find()).await.expect("count"), 0);
}

#[tokio::test]
async fn insert_or_update_inserts_then_updates() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    let a = new_post("s").save(&raw.conn).await.expect("raw save");
    let b = repo
        .insert_or_update(new_post("s"))
        .await
        .expect("repo insert_or_update");
    let a_model: post::Model = sea_orm::TryIntoModel::try_into_model(a.clone()).expect("model");
    assert_eq!(timeless(b.clone()), timeless(a_model));

    let mut am = b.into_active_model();
    am.body = Set("second".into());
    let updated = repo.insert_or_update(am).await.expect("update branch");
    assert_eq!(updated.body, "second");
    assert_eq!(repo.count(post::Entity::find()).await.expect("count"), 1);
}

#[tokio::test]
async fn bulk_writes_match_sea_orm_with_their_options() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    let tags = || tag::Entity::insert_many(["rust", "sqlite", "litefs"].map(new_tag));

    let expected = tags().exec(&raw.conn).await.expect("raw insert_many");
    let got = repo.insert_all(tags()).await.expect("repo insert_all");
    assert_eq!(got.last_insert_id, expected.last_insert_id);

    // on_conflict is kept: inserting the same names again updates instead of failing.
    let upsert = || {
        tag::Entity::insert_many(["rust", "go"].map(new_tag)).on_conflict(
            OnConflict::column(tag::Column::Name)
                .update_column(tag::Column::Name)
                .to_owned(),
        )
    };
    let expected = upsert()
        .exec_with_returning(&raw.conn)
        .await
        .expect("raw upsert");
    let got = repo
        .insert_all(upsert())
        .returning()
        .await
        .expect("repo upsert");
    assert_eq!(got, expected);

    // Filters are kept.
    let rename = || {
        tag::Entity::update_many()
            .col_expr(tag::Column::Name, Expr::cust("upper(name)"))
            .filter(tag::Column::Name.starts_with("s"))
    };
    let expected = rename().exec(&raw.conn).await.expect("raw update_many");
    let got = repo.update_all(rename()).await.expect("repo update_all");
    assert_eq!(got.rows_affected, expected.rows_affected);
    assert_eq!(got.rows_affected, 1);

    let prune = || tag::Entity::delete_many().filter(tag::Column::Name.ne("rust"));
    let expected = prune().exec(&raw.conn).await.expect("raw delete_many");
    let got = repo.delete_all(prune()).await.expect("repo delete_all");
    assert_eq!(got.rows_affected, expected.rows_affected);

    let all_raw = tag::Entity::find().all(&raw.conn).await.expect("raw rows");
    assert_eq!(
        repo.all(tag::Entity::find()).await.expect("repo rows"),
        all_raw
    );
}

#[tokio::test]
async fn empty_insert_all_behaves_as_sea_orm() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    let none = || tag::Entity::insert_many(Vec::<tag::ActiveModel>::new());
    let expected = none().exec(&raw.conn).await.map(|r| r.last_insert_id);
    let got = repo.insert_all(none()).await.map(|r| r.last_insert_id);
    assert_eq!(format!("{got:?}"), format!("{expected:?}"));
}

#[tokio::test]
async fn constraint_errors_keep_their_classification() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    new_post("dup").insert(&raw.conn).await.expect("raw first");
    repo.insert(new_post("dup")).await.expect("repo first");

    let raw_err = new_post("dup")
        .insert(&raw.conn)
        .await
        .expect_err("raw duplicate");
    let err = repo
        .insert(new_post("dup"))
        .await
        .expect_err("repo duplicate");
    assert!(matches!(err, RepoError::Database(_)), "{err:?}");
    assert_eq!(err.sql_err(), raw_err.sql_err());
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(m)) if m.contains("posts.slug"))
    );

    let orphan = || comment::ActiveModel {
        post_id: Set(999),
        author: Set("x".into()),
        body: Set("y".into()),
        created_at: Set(NaiveDateTime::default()),
        ..Default::default()
    };
    let raw_err = orphan().insert(&raw.conn).await.expect_err("raw orphan");
    let err = repo.insert(orphan()).await.expect_err("repo orphan");
    assert_eq!(err.sql_err(), raw_err.sql_err());
    assert!(matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    ));
}

#[tokio::test]
async fn update_of_a_missing_row_fails_as_in_sea_orm() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    let ghost = || tag::ActiveModel {
        id: Set(42),
        name: Set("ghost".into()),
    };
    let raw_err = ghost().update(&raw.conn).await.expect_err("raw");
    let err = repo.update(ghost()).await.expect_err("repo");
    assert!(matches!(raw_err, DbErr::RecordNotUpdated));
    assert!(
        matches!(err, RepoError::Database(DbErr::RecordNotUpdated)),
        "{err:?}"
    );
}

#[tokio::test]
async fn reads_match_sea_orm() {
    let db = db::fresh().await;
    let repo = Repo::new(db.conn.clone());
    for slug in ["x", "y", "z"] {
        repo.insert(new_post(slug)).await.expect("insert");
    }
    let all = post::Entity::find().all(&db.conn).await.expect("raw all");
    assert_eq!(repo.all(post::Entity::find()).await.expect("all"), all);
    let first = repo
        .one(post::Entity::find().filter(post::Column::Slug.eq("y")))
        .await
        .expect("one");
    assert_eq!(first.as_ref().map(|p| p.slug.as_str()), Some("y"));
    let id = first.map(|p| p.id).unwrap_or_default();
    assert_eq!(
        repo.get::<post::Entity>(id)
            .await
            .expect("get")
            .map(|p| p.id),
        Some(id)
    );
    assert_eq!(
        repo.get::<post::Entity>(9999).await.expect("get missing"),
        None
    );
    let by = repo
        .get_by::<post::Entity>(post::Column::Slug.eq("z"))
        .await
        .expect("get_by");
    assert_eq!(by.map(|p| p.slug), Some("z".to_owned()));
    let many = repo
        .get_by::<post::Entity>(post::Column::Published.eq(false))
        .await;
    assert!(matches!(many, Err(RepoError::MultipleResults)));
    assert_eq!(repo.count(post::Entity::find()).await.expect("count"), 3);
    assert!(
        repo.exists(post::Entity::find().filter(post::Column::Slug.eq("x")))
            .await
            .expect("exists")
    );
    assert!(
        !repo
            .exists(post::Entity::find().filter(post::Column::Slug.eq("nope")))
            .await
            .expect("exists")
    );
}
