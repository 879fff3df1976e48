//! A single-node tour of the repository on a real SQLite file: it migrates the schema,
//! then writes and reads through `Repo` (a named transaction, typed inserts and bulk
//! updates, an atomic `Multi`, plain sea-orm code over `&repo`, a refused duplicate),
//! printing what each returned. `blog-example tour [DATABASE_PATH]`.

use std::error::Error;

use crate::entities::{comment, post, tag};
use crate::transactions::{self, CreatePostWithTags, NewPost, PublishPost};
use migrations::{Migrator, MigratorTrait};
use repo_core::NamedTransaction;
use repo_core::{Multi, Repo};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Database, EntityTrait, ModelTrait, QueryFilter, Set};

/// Runs the tour on the database file `path` (created if missing).
pub async fn run(path: &std::path::Path) -> Result<(), Box<dyn Error>> {
    let db = Database::connect(format!("sqlite://{}?mode=rwc", path.display())).await?;
    Migrator::up(&db, None).await?;
    println!("database: {}", path.display());

    let repo = transactions::register(Repo::builder(db))
        .entity::<post::Entity>()
        .entity::<comment::Entity>()
        .entity::<tag::Entity>()
        .build();

    let slug = format!("hello-{}", chrono::Utc::now().timestamp_micros());
    let post = repo
        .transaction::<CreatePostWithTags>(NewPost {
            title: "Hello, LiteFS".into(),
            slug: slug.clone(),
            body: "Writes from every node, executed once on the primary.".into(),
            tags: vec!["rust".into(), "sqlite".into()],
        })
        .await?;
    println!(
        "transaction {}: post #{} `{}`",
        CreatePostWithTags::NAME,
        post.id,
        post.slug
    );

    let published = repo.transaction::<PublishPost>(post.id).await?;
    println!(
        "transaction publish_post.v1: published={} at {:?}",
        published.published, published.published_at
    );

    let comment = repo
        .insert(comment::ActiveModel {
            post_id: Set(post.id),
            author: Set("ada".into()),
            body: Set("First!".into()),
            created_at: Set(chrono::Utc::now().naive_utc()),
            ..Default::default()
        })
        .await?;
    println!("insert: comment #{} by {}", comment.id, comment.author);

    let done = repo
        .multi(
            Multi::new()
                .insert(
                    "reply",
                    comment::ActiveModel {
                        post_id: Set(post.id),
                        author: Set("grace".into()),
                        body: Set("Welcome.".into()),
                        created_at: Set(chrono::Utc::now().naive_utc()),
                        ..Default::default()
                    },
                )
                .update_all(
                    "views",
                    post::Entity::update_many()
                        .col_expr(post::Column::ViewCount, Expr::cust("view_count + 10"))
                        .filter(post::Column::Id.eq(post.id)),
                ),
        )
        .await?;
    let reply: comment::Model = done.model::<comment::Entity>("reply").await?;
    println!(
        "multi: reply #{} and {} post(s) counted",
        reply.id,
        done.rows_affected("views")?
    );

    // Plain sea-orm code, with the repository as its connection.
    let mut edit: post::ActiveModel = published.into();
    edit.title = Set("Hello again, LiteFS".into());
    let edited = edit.update(&repo).await?;
    println!("sea-orm update through &repo: `{}`", edited.title);

    let archived = repo
        .update_all(
            post::Entity::update_many()
                .col_expr(post::Column::Archived, Expr::value(true))
                .filter(
                    post::Column::CreatedAt
                        .lt(chrono::Utc::now().naive_utc() - chrono::Duration::days(365)),
                ),
        )
        .await?;
    println!(
        "update_all: archived {} old post(s)",
        archived.rows_affected
    );

    let duplicate = repo
        .insert(post::ActiveModel {
            title: Set("Copy".into()),
            slug: Set(slug),
            body: Set("…".into()),
            ..Default::default()
        })
        .await;
    match duplicate {
        Err(e) => println!("duplicate slug refused: {:?}", e.sql_err()),
        Ok(p) => return Err(format!("a duplicate slug was accepted: #{}", p.id).into()),
    }

    let comments = edited
        .find_related(comment::Entity)
        .all(repo.connection())
        .await?;
    let tags = edited
        .find_related(tag::Entity)
        .all(repo.connection())
        .await?;
    println!(
        "read back: post `{}` views={} with {} comment(s) and tags {:?}",
        edited.title,
        repo.get::<post::Entity>(edited.id)
            .await?
            .map(|p| p.view_count)
            .unwrap_or_default(),
        comments.len(),
        tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>()
    );
    Ok(())
}
