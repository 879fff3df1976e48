//! One script of every write action, run on a node whose writes are forwarded and on a
//! standalone primary (the twin), comparing each answer; and a dump of every blog table for
//! comparing two databases afterwards. Shared by the emulated and the real-LiteFS tests.

use blog_example::entities::{comment, post, tag};
use blog_example::transactions::{CreatePostWithTags, NewPost, PublishPost};
use chrono::NaiveDateTime;
use repo_core::{Multi, Repo};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    Set,
};

use crate::cluster::{blog_builder, migrated};
use crate::{every_pg_type, every_type};

/// A new tag.
pub fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

/// A new post whose timestamps are fixed.
pub fn fixed_post(slug: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(format!("Title {slug}")),
        slug: Set(slug.into()),
        body: Set("body".into()),
        created_at: Set(NaiveDateTime::default()),
        updated_at: Set(NaiveDateTime::default()),
        ..Default::default()
    }
}

/// `p` with its timestamps zeroed, for comparing posts written at different times.
pub fn timeless(mut p: post::Model) -> post::Model {
    p.created_at = NaiveDateTime::default();
    p.updated_at = NaiveDateTime::default();
    p.published_at = p.published_at.map(|_| NaiveDateTime::default());
    p
}

/// A standalone primary with the same schema: the reference every forwarded call is
/// compared with.
pub async fn twin() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().expect("dir");
    let db = migrated(&dir.path().join("twin.db")).await;
    (dir, blog_builder(db).build())
}

/// Every row of every blog table, for comparing two databases.
pub async fn dump(db: &impl ConnectionTrait) -> String {
    let posts: Vec<post::Model> = post::Entity::find()
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
        .expect("posts");
    let tags = tag::Entity::find()
        .order_by_asc(tag::Column::Id)
        .all(db)
        .await
        .expect("tags");
    let comments = comment::Entity::find()
        .order_by_asc(comment::Column::Id)
        .all(db)
        .await
        .expect("comments");
    let every_type_rows = if db.get_database_backend() == DbBackend::Postgres {
        format!(
            "{:?}",
            every_pg_type::Entity::find()
                .order_by_asc(every_pg_type::Column::Id)
                .all(db)
                .await
                .expect("every_pg_type_rows")
        )
    } else {
        format!(
            "{:?}",
            every_type::Entity::find()
                .order_by_asc(every_type::Column::Id)
                .all(db)
                .await
                .expect("every_type_rows")
        )
    };
    format!(
        "{:?}\n{tags:?}\n{comments:?}\n{every_type_rows}",
        posts.into_iter().map(timeless).collect::<Vec<_>>()
    )
}

/// Runs every write action (typed inserts, updates, saves, bulk actions with and without
/// RETURNING, both named transactions, a multi, a row with every column type (of
/// `every_type_rows`, or `every_pg_type_rows` on PostgreSQL), a delete)
/// on `node` and on `twin`, asserting that each returns the same. `i` keeps names unique
/// when the script runs more than once against one database.
pub async fn every_write_action(node: &Repo, twin: &Repo, i: usize) {
    let replica = node;
    let slug = format!("post-{i}");

    let a = replica.insert(fixed_post(&slug)).await.expect("insert");
    let b = twin.insert(fixed_post(&slug)).await.expect("twin insert");
    assert_eq!(timeless(a.clone()), timeless(b.clone()));

    let mut am = a.clone().into_active_model();
    am.title = Set("Renamed".into());
    let mut bm = b.clone().into_active_model();
    bm.title = Set("Renamed".into());
    assert_eq!(
        timeless(replica.update(am).await.expect("update")),
        timeless(twin.update(bm).await.expect("twin"))
    );

    let a = replica
        .insert_or_update(fixed_post(&format!("{slug}-s")))
        .await
        .expect("save insert");
    let b = twin
        .insert_or_update(fixed_post(&format!("{slug}-s")))
        .await
        .expect("twin save");
    assert_eq!(timeless(a.clone()), timeless(b));
    let mut am = a.into_active_model();
    am.body = Set("saved".into());
    assert_eq!(
        replica
            .insert_or_update(am)
            .await
            .expect("save update")
            .body,
        "saved"
    );
    let mut bm = twin
        .get::<post::Entity>(b_id(twin, &format!("{slug}-s")).await)
        .await
        .expect("get")
        .expect("row")
        .into_active_model();
    bm.body = Set("saved".into());
    twin.insert_or_update(bm).await.expect("twin save update");

    let tags = || tag::Entity::insert_many([format!("a{i}"), format!("b{i}")].map(|n| new_tag(&n)));
    let a = replica.insert_all(tags()).await.expect("insert_all");
    let b = twin.insert_all(tags()).await.expect("twin");
    assert_eq!(a.last_insert_id, b.last_insert_id);
    let upsert = || {
        tag::Entity::insert_many([format!("a{i}"), format!("c{i}")].map(|n| new_tag(&n)))
            .on_conflict(
                OnConflict::column(tag::Column::Name)
                    .update_column(tag::Column::Name)
                    .to_owned(),
            )
    };
    assert_eq!(
        replica
            .insert_all(upsert())
            .returning()
            .await
            .expect("upsert"),
        twin.insert_all(upsert()).returning().await.expect("twin")
    );

    let rename = || {
        tag::Entity::update_many()
            .col_expr(tag::Column::Name, Expr::cust("name || '!'"))
            .filter(tag::Column::Name.like(format!("%{i}")))
    };
    assert_eq!(
        replica
            .update_all(rename())
            .returning()
            .await
            .expect("update_all"),
        twin.update_all(rename()).returning().await.expect("twin")
    );
    let prune = || tag::Entity::delete_many().filter(tag::Column::Name.starts_with("b"));
    assert_eq!(
        replica
            .delete_all(prune())
            .await
            .expect("delete_all")
            .rows_affected,
        twin.delete_all(prune()).await.expect("twin").rows_affected
    );
    let prune_c = || tag::Entity::delete_many().filter(tag::Column::Name.starts_with("c"));
    assert_eq!(
        replica
            .delete_all(prune_c())
            .returning()
            .await
            .expect("returning"),
        twin.delete_all(prune_c()).returning().await.expect("twin")
    );

    let new_post = NewPost {
        title: "T".into(),
        slug: format!("{slug}-tx"),
        body: "b".into(),
        tags: vec!["rust".into(), format!("t{i}")],
    };
    let a = replica
        .transaction::<CreatePostWithTags>(new_post.clone())
        .await
        .expect("transaction");
    let b = twin
        .transaction::<CreatePostWithTags>(new_post)
        .await
        .expect("twin");
    assert_eq!(timeless(a.clone()), timeless(b.clone()));
    let a = replica
        .transaction::<PublishPost>(a.id)
        .await
        .expect("publish");
    let b = twin
        .transaction::<PublishPost>(b.id)
        .await
        .expect("twin publish");
    assert_eq!(timeless(a), timeless(b));

    let multi = || {
        Multi::new()
            .insert(
                "c",
                comment::ActiveModel {
                    post_id: Set(1),
                    author: Set("ann".into()),
                    body: Set("hi".into()),
                    created_at: Set(NaiveDateTime::default()),
                    ..Default::default()
                },
            )
            .update_all(
                "views",
                post::Entity::update_many()
                    .col_expr(post::Column::ViewCount, Expr::cust("view_count + 5")),
            )
    };
    let a = replica.multi(multi()).await.expect("multi");
    let b = twin.multi(multi()).await.expect("twin multi");
    assert_eq!(
        a.model::<comment::Entity>("c").await.expect("c"),
        b.model::<comment::Entity>("c").await.expect("c")
    );
    assert_eq!(
        a.rows_affected("views").expect("n"),
        b.rows_affected("views").expect("n")
    );

    if twin.connection().get_database_backend() == DbBackend::Postgres {
        let g = replica
            .insert(every_pg_type::sample(i as i32))
            .await
            .expect("every_pg_type");
        assert_eq!(
            g,
            twin.insert(every_pg_type::sample(i as i32))
                .await
                .expect("twin every_pg_type")
        );
    } else {
        let g = replica
            .insert(every_type::sample(i as i32))
            .await
            .expect("every_type");
        assert_eq!(
            g,
            twin.insert(every_type::sample(i as i32))
                .await
                .expect("twin every_type")
        );
    }

    let victim = replica
        .insert(new_tag(&format!("victim{i}")))
        .await
        .expect("victim");
    twin.insert(new_tag(&format!("victim{i}")))
        .await
        .expect("twin victim");
    assert_eq!(
        replica
            .delete(victim.clone().into_active_model())
            .await
            .expect("delete")
            .rows_affected,
        1
    );
    twin.delete(victim.into_active_model())
        .await
        .expect("twin delete");
}

async fn b_id(twin: &Repo, slug: &str) -> i32 {
    twin.get_by::<post::Entity>(post::Column::Slug.eq(slug))
        .await
        .expect("get_by")
        .map(|p| p.id)
        .unwrap_or_default()
}
