//! The change feed's questions are answered from indexes, not by reading every row: each
//! node asks them at every change of its database, so a full scan would make every write
//! wait on the table's size. Checked with SQLite's query plans on the migrated schema.

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DbBackend, QueryTrait, Statement};

use super::{comments_after_query, posts_published_after};

/// SQLite's plan for `statement`, one line per step.
async fn plan(statement: Statement) -> String {
    let db = Database::connect("sqlite::memory:").await.expect("open");
    Migrator::up(&db, None).await.expect("migrate");
    let explain = Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("EXPLAIN QUERY PLAN {}", statement.sql),
        statement.values.map(|v| v.0).unwrap_or_default(),
    );
    let rows = db.query_all_raw(explain).await.expect("explain");
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(3).expect("detail"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn posts_after_the_last_announced_are_ranges_of_the_publication_index() {
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 30)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .expect("a time");
    let mut plans = Vec::new();
    for query in posts_published_after(Some((at, 41))) {
        plans.push(plan(query.build(DbBackend::Sqlite)).await);
    }
    assert_eq!(
        plans,
        [
            "SEARCH posts USING INDEX idx-posts-published_at-id (published_at=? AND id>?)",
            "SEARCH posts USING INDEX idx-posts-published_at-id (published_at>?)",
        ],
        "the same instant, then later ones: each a range"
    );
    // The first question (nothing announced yet) walks the index in order, up to the batch.
    let [first] = &posts_published_after(None)[..] else {
        panic!("one query");
    };
    let first = plan(first.clone().build(DbBackend::Sqlite)).await;
    assert!(
        first.contains("USING INDEX idx-posts-published_at-id"),
        "{first}"
    );
    assert!(
        !first.contains("TEMP B-TREE"),
        "sorted without the index: {first}"
    );
}

#[tokio::test]
async fn a_posts_comments_are_a_range_of_the_comments_index() {
    let found = plan(comments_after_query(Some(7), 3, 50).build(DbBackend::Sqlite)).await;
    assert!(
        found.contains("SEARCH comments USING INDEX idx-comments-post_id-id (post_id=? AND id>?)"),
        "{found}"
    );
}
