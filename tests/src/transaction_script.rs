//! One sea-orm transaction script, unchanged and generic over the connection: a closure
//! with reads and writes, explicit begin/commit, a rollback on error, a savepoint rolled
//! back while the outer transaction commits, unique violations inside. Run on a replica
//! (the emulator, real LiteFS, PostgreSQL) and on a twin primary of the same backend, its
//! transcripts and tables must match.

use blog_example::entities::{post, tag};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr, TransactionError, TransactionSession,
    TransactionTrait,
};

use crate::interactive::new_tag;

/// A post to insert.
pub fn new_post(slug: &str) -> post::ActiveModel {
    post::ActiveModel {
        title: Set(format!("Title {slug}")),
        slug: Set(slug.into()),
        body: Set("body".into()),
        ..Default::default()
    }
}

/// What a user sees of an error: its sea-orm classification and text. From PostgreSQL the
/// text's trailing ` at line N` is left out: it is the line of PostgreSQL's own C source
/// that raised the error, which an error raised again on a replica cannot carry
/// (docs/BACKENDS.md).
pub fn seen(e: &DbErr) -> String {
    let class = match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => "unique",
        Some(_) => "other sql",
        None => "none",
    };
    let text = e.to_string();
    let text = match text.rsplit_once(" at line ") {
        Some((head, line)) if !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) => {
            head.to_owned()
        }
        _ => text,
    };
    format!("{class}: {text}")
}

/// What a user sees of a transaction error: where it came from, then as [`seen`].
pub fn seen_txn(e: &TransactionError<DbErr>) -> String {
    match e {
        TransactionError::Connection(e) => format!("connection {}", seen(e)),
        TransactionError::Transaction(e) => format!("transaction {}", seen(e)),
    }
}

/// Unchanged sea-orm transaction code, generic over the connection: returns a transcript.
///
/// # Panics
/// If a step that must succeed fails.
pub async fn script<C>(db: &C) -> Vec<String>
where
    C: TransactionTrait,
    C::Transaction: ConnectionTrait,
{
    let mut log = Vec::new();

    // A closure with writes and reads; the reads see the transaction's own writes.
    let closure = db
        .transaction::<_, _, DbErr>(|txn| {
            Box::pin(async move {
                let p = new_post("first").insert(txn).await?;
                let t = new_tag("rust").insert(txn).await?;
                let found = post::Entity::find()
                    .filter(post::Column::Slug.eq("first"))
                    .one(txn)
                    .await?
                    .map(|p| (p.id, p.slug, p.view_count, p.published));
                let tags = tag::Entity::find().count(txn).await?;
                Ok(format!("{} {} {:?} {tags}", p.id, t.id, found))
            })
        })
        .await;
    log.push(format!("closure: {closure:?}"));

    // Explicit begin / commit, with an update.
    let txn = db.begin().await.expect("begin");
    let t = new_tag("go").insert(&txn).await.expect("insert go");
    let updated = post::Entity::update_many()
        .col_expr(post::Column::ViewCount, sea_orm::sea_query::Expr::val(7))
        .filter(post::Column::Slug.eq("first"))
        .exec(&txn)
        .await
        .expect("update");
    txn.commit().await.expect("commit");
    log.push(format!("begin/commit: {} {}", t.id, updated.rows_affected));

    // An error in the closure rolls everything back.
    let failed = db
        .transaction::<_, (), DbErr>(|txn| {
            Box::pin(async move {
                new_tag("rolled-back").insert(txn).await?;
                Err(DbErr::Custom("the closure failed".into()))
            })
        })
        .await;
    log.push(format!(
        "rollback on error: {}",
        failed.as_ref().map_err(seen_txn).err().unwrap_or_default()
    ));

    // A nested transaction (a savepoint) rolled back while the outer one commits.
    let outer = db.begin().await.expect("outer");
    new_tag("outer").insert(&outer).await.expect("outer insert");
    let inner = outer.begin().await.expect("inner");
    new_tag("inner").insert(&inner).await.expect("inner insert");
    let inside = tag::Entity::find()
        .count(&inner)
        .await
        .expect("count inside");
    inner.rollback().await.expect("inner rollback");
    let after = tag::Entity::find()
        .count(&outer)
        .await
        .expect("count after");
    outer.commit().await.expect("outer commit");
    log.push(format!("savepoint: {inside} then {after}"));

    // A unique violation inside: typed as locally; on SQLite the transaction stays usable,
    // on PostgreSQL it is aborted (the next statement fails with 25P02, the commit rolls
    // back): whatever the backend does locally, it does forwarded.
    let txn = db.begin().await.expect("begin");
    let dup = new_tag("rust").insert(&txn).await.map_err(|e| seen(&e));
    let next = new_tag("zig")
        .insert(&txn)
        .await
        .map(|t| t.name)
        .map_err(|e| seen(&e));
    // Committed if the transaction is still usable, else rolled back (committing an aborted
    // PostgreSQL transaction: docs/BACKENDS.md).
    let end = if next.is_ok() {
        txn.commit().await
    } else {
        txn.rollback().await
    };
    log.push(format!(
        "unique inside: {dup:?} then {next:?}, end {:?}",
        end.map_err(|e| seen(&e))
    ));

    // The same violation ending a closure.
    let closure_dup = db
        .transaction::<_, (), DbErr>(|txn| {
            Box::pin(async move {
                new_post("second").insert(txn).await?;
                new_post("first").insert(txn).await?;
                Ok(())
            })
        })
        .await;
    log.push(format!(
        "unique ends closure: {}",
        closure_dup
            .as_ref()
            .map_err(seen_txn)
            .err()
            .unwrap_or_default()
    ));

    // Dropped without a commit: rolled back.
    {
        let txn = db.begin().await.expect("begin");
        new_tag("dropped").insert(&txn).await.expect("insert");
    }
    log
}

/// The tables the script writes as data, without the clock-dependent columns.
///
/// # Panics
/// If they cannot be read.
pub async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let posts = post::Entity::find()
        .order_by_asc(post::Column::Id)
        .all(db)
        .await
        .expect("posts")
        .into_iter()
        .map(|p| format!("post {} {} {} {}", p.id, p.slug, p.view_count, p.published));
    let tags = tag::Entity::find()
        .order_by_asc(tag::Column::Id)
        .all(db)
        .await
        .expect("tags")
        .into_iter()
        .map(|t| format!("tag {} {}", t.id, t.name));
    posts.chain(tags).collect()
}

/// Asserts that the script really ran on a database whose [`tables`] are `tables`: the
/// committed rows are there, the rolled-back ones are not.
///
/// # Panics
/// If one is missing or present.
pub fn assert_script_ran(tables: &[String]) {
    let names = tables.join(",");
    for kept in ["rust", "go", "outer", "first 7"] {
        assert!(names.contains(kept), "{kept} in {names}");
    }
    for gone in ["rolled-back", "inner", "dropped", "second"] {
        assert!(!names.contains(gone), "{gone} not in {names}");
    }
}
