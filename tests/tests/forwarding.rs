//! Writes on replicas run once on the primary and return exactly what the same call returns
//! on a primary; the replica's own executor never runs.

use blog_example::entities::{comment, post, tag};
use blog_example::transactions::{CreatePostWithTags, NewPost, PublishPost};
use chrono::NaiveDateTime;
use repo_core::{Multi, Repo, RepoError};
use repo_tests::cluster::{Cluster, blog_builder, migrated};
use repo_tests::gadget;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

fn fixed_post(slug: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(format!("Title {slug}")),
        slug: Set(slug.into()),
        body: Set("body".into()),
        created_at: Set(NaiveDateTime::default()),
        updated_at: Set(NaiveDateTime::default()),
        ..Default::default()
    }
}

fn timeless(mut p: post::Model) -> post::Model {
    p.created_at = NaiveDateTime::default();
    p.updated_at = NaiveDateTime::default();
    p.published_at = p.published_at.map(|_| NaiveDateTime::default());
    p
}

/// A standalone primary with the same schema: the reference every forwarded call is
/// compared with.
async fn twin() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().expect("dir");
    let db = migrated(&dir.path().join("twin.db")).await;
    (dir, blog_builder(db).build())
}

/// Every row of every blog table, for comparing two databases.
async fn dump(db: &impl ConnectionTrait) -> String {
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
    let gadgets = gadget::Entity::find()
        .order_by_asc(gadget::Column::Id)
        .all(db)
        .await
        .expect("gadgets");
    format!(
        "{:?}\n{tags:?}\n{comments:?}\n{gadgets:?}",
        posts.into_iter().map(timeless).collect::<Vec<_>>()
    )
}

#[tokio::test]
async fn every_typed_write_on_a_replica_matches_the_same_call_on_a_primary() {
    let cluster = Cluster::start(2).await;
    let (_dir, twin) = twin().await;
    for i in 1..=2 {
        let replica = &cluster.replica(i).repo;
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
            .get::<post::Entity>(b_id(&twin, &format!("{slug}-s")).await)
            .await
            .expect("get")
            .expect("row")
            .into_active_model();
        bm.body = Set("saved".into());
        twin.insert_or_update(bm).await.expect("twin save update");

        let tags =
            || tag::Entity::insert_many([format!("a{i}"), format!("b{i}")].map(|n| new_tag(&n)));
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

        let g = replica
            .insert(gadget::sample(i as i32))
            .await
            .expect("gadget");
        assert_eq!(
            g,
            twin.insert(gadget::sample(i as i32))
                .await
                .expect("twin gadget")
        );

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
    assert_eq!(
        dump(&cluster.primary().db).await,
        dump(twin.connection()).await,
        "the primary holds exactly what the twin holds"
    );
    for i in 1..=2 {
        assert_eq!(
            cluster.replica(i).executed.count(),
            0,
            "replica {i}'s executor never ran"
        );
        assert_eq!(
            post::Entity::find()
                .count(&cluster.replica(i).db)
                .await
                .expect("count"),
            0,
            "nothing was written on replica {i}"
        );
    }
}

async fn b_id(twin: &Repo, slug: &str) -> i32 {
    twin.get_by::<post::Entity>(post::Column::Slug.eq(slug))
        .await
        .expect("get_by")
        .map(|p| p.id)
        .unwrap_or_default()
}

#[tokio::test]
async fn the_sea_orm_path_on_a_replica_is_forwarded_too() {
    let cluster = Cluster::start(1).await;
    let replica = &cluster.replica(1).repo;
    let t = new_tag("plain")
        .insert(replica)
        .await
        .expect("am.insert(&repo)");
    assert_eq!(t.name, "plain");
    let n = tag::Entity::update_many()
        .col_expr(tag::Column::Name, Expr::value("PLAIN"))
        .exec(replica)
        .await
        .expect("update_many");
    assert_eq!(n.rows_affected, 1);
    let raw = replica
        .execute_unprepared("DELETE FROM tags WHERE name = 'PLAIN'")
        .await
        .expect("raw");
    assert_eq!(raw.rows_affected(), 1);
    assert_eq!(cluster.replica(1).executed.count(), 0);
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        0
    );
}

#[tokio::test]
async fn errors_on_the_primary_come_back_with_the_same_classification() {
    let cluster = Cluster::start(1).await;
    let (_dir, twin) = twin().await;
    let replica = &cluster.replica(1).repo;
    replica.insert(fixed_post("dup")).await.expect("first");
    twin.insert(fixed_post("dup")).await.expect("first");

    let forwarded = replica.insert(fixed_post("dup")).await.expect_err("dup");
    let local = twin.insert(fixed_post("dup")).await.expect_err("dup");
    assert!(matches!(forwarded, RepoError::Database(_)), "{forwarded:?}");
    assert_eq!(forwarded.sql_err(), local.sql_err());
    assert_eq!(forwarded.to_string(), local.to_string());

    // Through sea-orm's own API the DbErr itself classifies: it is a real SQLite error.
    let db_err = fixed_post("dup")
        .insert(replica)
        .await
        .expect_err("dup through &repo");
    assert!(
        matches!(db_err.sql_err(), Some(SqlErr::UniqueConstraintViolation(ref m)) if m.contains("posts.slug")),
        "{db_err:?}"
    );

    let orphan = || comment::ActiveModel {
        post_id: Set(999),
        author: Set("x".into()),
        body: Set("y".into()),
        created_at: Set(NaiveDateTime::default()),
        ..Default::default()
    };
    let forwarded = replica.insert(orphan()).await.expect_err("fk");
    assert_eq!(
        forwarded.sql_err(),
        twin.insert(orphan()).await.expect_err("fk").sql_err()
    );
    assert!(matches!(
        forwarded.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    ));

    let ghost = || tag::ActiveModel {
        id: Set(4242),
        name: Set("ghost".into()),
    };
    assert!(matches!(
        replica.update(ghost()).await,
        Err(RepoError::Database(DbErr::RecordNotUpdated))
    ));

    let err = replica
        .transaction::<CreatePostWithTags>(NewPost {
            title: "t".into(),
            slug: "dup".into(),
            body: "b".into(),
            tags: vec![],
        })
        .await
        .expect_err("dup in tx");
    assert!(
        matches!(err, RepoError::TransactionFailed { .. }),
        "{err:?}"
    );
    assert!(matches!(
        err.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_))
    ));

    let err = replica
        .multi(
            Multi::new()
                .insert("a", new_tag("m1"))
                .insert("b", fixed_post("dup")),
        )
        .await
        .expect_err("multi");
    assert!(
        matches!(err, RepoError::MultiStep { ref step, .. } if step == "b"),
        "{err:?}"
    );
    assert!(matches!(
        err.sql_err(),
        Some(SqlErr::UniqueConstraintViolation(_))
    ));
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        0,
        "the multi rolled back"
    );
}

#[tokio::test]
async fn a_local_write_on_a_replica_fails_as_on_litefs() {
    let cluster = Cluster::start(1).await;
    let err = cluster
        .replica(1)
        .db
        .execute_unprepared("INSERT INTO tags (name) VALUES ('x')")
        .await
        .expect_err("read-only");
    assert!(err.to_string().contains("readonly"), "{err}");
}

#[tokio::test]
async fn the_primary_runs_its_own_writes_locally() {
    let cluster = Cluster::start(1).await;
    cluster
        .primary()
        .repo
        .insert(new_tag("local"))
        .await
        .expect("insert");
    assert_eq!(cluster.primary().executed.count(), 1);
    assert_eq!(
        tag::Entity::find()
            .count(&cluster.primary().db)
            .await
            .expect("count"),
        1
    );
}
