//! Every column type comes back from a write exactly as sea-orm returns it directly.

use repo_core::Repo;
use repo_tests::{db, every_type};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};

#[tokio::test]
async fn insert_returns_every_column_type_as_raw_sea_orm_does() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    for n in 0..4 {
        let expected = every_type::sample(n)
            .insert(&raw.conn)
            .await
            .expect("raw insert");
        let got = repo
            .insert(every_type::sample(n))
            .await
            .expect("repo insert");
        assert_eq!(got, expected);
        let read_back = repo.get::<every_type::Entity>(got.id).await.expect("get");
        assert_eq!(read_back, Some(expected));
    }
}

#[tokio::test]
async fn returning_rows_of_every_type_match_for_bulk_writes() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    let batch = || every_type::Entity::insert_many((0..5).map(every_type::sample));
    let expected = batch().exec_with_returning(&raw.conn).await.expect("raw");
    let got = repo.insert_all(batch()).returning().await.expect("repo");
    assert_eq!(got, expected);

    let update = || {
        every_type::Entity::update_many().col_expr(
            every_type::Column::MaybeText,
            sea_orm::sea_query::Expr::value("changed"),
        )
    };
    let expected = update().exec_with_returning(&raw.conn).await.expect("raw");
    let got = repo.update_all(update()).returning().await.expect("repo");
    assert_eq!(got, expected);

    let expected = every_type::Entity::delete_many()
        .exec_with_returning(&raw.conn)
        .await
        .expect("raw");
    let got = repo
        .delete_all(every_type::Entity::delete_many())
        .returning()
        .await
        .expect("repo");
    assert_eq!(got, expected);
}

#[tokio::test]
async fn drop_in_path_decodes_every_type_for_registered_entities() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::builder(wrapped.conn.clone())
        .entity::<every_type::Entity>()
        .sea_orm_returning(true)
        .build();
    let expected = every_type::sample(1).insert(&raw.conn).await.expect("raw");
    let got = every_type::sample(1)
        .insert(&repo)
        .await
        .expect("through &repo");
    assert_eq!(got, expected);

    let mut am = got.into_active_model();
    am.maybe_int = Set(None);
    let mut raw_am = expected.into_active_model();
    raw_am.maybe_int = Set(None);
    assert_eq!(
        am.update(&repo).await.expect("repo"),
        raw_am.update(&raw.conn).await.expect("raw")
    );
}

#[tokio::test]
async fn drop_in_path_without_returning_decodes_any_entity() {
    let (raw, wrapped) = db::twins().await;
    let repo = Repo::new(wrapped.conn.clone());
    let expected = every_type::sample(2).insert(&raw.conn).await.expect("raw");
    let got = every_type::sample(2)
        .insert(&repo)
        .await
        .expect("through &repo, unregistered");
    assert_eq!(got, expected);
}
