//! Existing sea-orm code works unchanged with `&repo` as its connection, and its writes
//! take the same path as the typed API.

use blog_example::entities::{post, tag};
use repo_core::Repo;
use repo_tests::db;
use repo_tests::layers::CountingLayer;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, Set, SqlErr, Statement,
};

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn sea_orm_code_through_repo_matches_the_raw_connection() {
    let (raw, wrapped) = db::twins().await;
    let counter = CountingLayer::default();
    let repo = Repo::builder(wrapped.conn.clone())
        .layer(counter.clone())
        .entity::<tag::Entity>()
        .build();

    let a = new_tag("rust").insert(&raw.conn).await.expect("raw insert");
    let b = new_tag("rust").insert(&repo).await.expect("repo insert");
    assert_eq!(a, b);
    assert_eq!(counter.count(), 1, "the insert went through the stack");

    let mut am = b.into_active_model();
    am.name = Set("rustlang".into());
    let b = am.update(&repo).await.expect("repo update");
    let mut am = a.into_active_model();
    am.name = Set("rustlang".into());
    assert_eq!(am.update(&raw.conn).await.expect("raw update"), b);

    for name in ["go", "zig"] {
        new_tag(name).insert(&raw.conn).await.expect("raw");
        new_tag(name).insert(&repo).await.expect("repo");
    }
    let bulk = || {
        tag::Entity::update_many()
            .col_expr(tag::Column::Name, Expr::cust("name || '!'"))
            .filter(tag::Column::Name.ne("go"))
    };
    let r = bulk().exec(&raw.conn).await.expect("raw update_many");
    let w = bulk().exec(&repo).await.expect("repo update_many");
    assert_eq!(r.rows_affected, w.rows_affected);

    let before_reads = counter.count();
    let raw_all = tag::Entity::find().all(&raw.conn).await.expect("raw all");
    assert_eq!(
        tag::Entity::find().all(&repo).await.expect("repo all"),
        raw_all
    );
    assert_eq!(tag::Entity::find().count(&repo).await.expect("count"), 3);
    assert_eq!(counter.count(), before_reads, "reads never enter the stack");

    let d = tag::Entity::delete_many()
        .filter(tag::Column::Name.eq("go"))
        .exec(&repo)
        .await
        .expect("delete");
    assert_eq!(d.rows_affected, 1);
}

#[tokio::test]
async fn raw_statements_are_routed_by_kind() {
    let db = db::fresh().await;
    let counter = CountingLayer::default();
    let repo = Repo::builder(db.conn.clone())
        .layer(counter.clone())
        .build();
    let backend = repo.get_database_backend();
    let insert =
        Statement::from_sql_and_values(backend, "INSERT INTO tags (name) VALUES (?)", ["x".into()]);
    let result = repo.execute_raw(insert).await.expect("insert");
    assert_eq!(result.rows_affected(), 1);
    assert_eq!(result.last_insert_id(), 1);
    assert_eq!(counter.count(), 1);

    let select = Statement::from_string(backend, "SELECT id, name FROM tags");
    let rows = repo.query_all_raw(select).await.expect("select");
    assert_eq!(rows.len(), 1);
    assert_eq!(counter.count(), 1, "the read stayed local");

    // An unregistered table's RETURNING rows keep SQLite's storage classes.
    let returning = Statement::from_string(
        backend,
        "INSERT INTO tags (name) VALUES ('y') RETURNING id, name",
    );
    let row = repo
        .query_one_raw(returning)
        .await
        .expect("returning")
        .expect("one row");
    assert_eq!(row.try_get::<i64>("", "id").expect("id"), 2);
    assert_eq!(row.try_get::<String>("", "name").expect("name"), "y");
    assert_eq!(counter.count(), 2);

    repo.execute_unprepared("DELETE FROM tags")
        .await
        .expect("unprepared write");
    assert_eq!(counter.count(), 3);
}

#[tokio::test]
async fn drop_in_errors_keep_sea_orm_classification() {
    let db = db::fresh().await;
    let repo = Repo::new(db.conn.clone());
    let p = || post::ActiveModel {
        title: Set("t".into()),
        slug: Set("same".into()),
        body: Set("b".into()),
        ..Default::default()
    };
    p().insert(&repo).await.expect("first");
    let err = p().insert(&repo).await.expect_err("duplicate slug");
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{err}"
    );
}
