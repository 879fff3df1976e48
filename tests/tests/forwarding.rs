//! Writes on replicas run once on the primary and return exactly what the same call returns
//! on a primary; the replica's own executor never runs. (The write script through a
//! replica against a twin runs on every backend: `suite_write_script.rs`.)

use blog_example::entities::{comment, tag};
use blog_example::transactions::{CreatePostWithTags, NewPost};
use chrono::NaiveDateTime;
use repo_core::{Multi, RepoError};
use repo_tests::cluster::Cluster;
use repo_tests::write_script::{fixed_post, new_tag, twin};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, Set, SqlErr};

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
