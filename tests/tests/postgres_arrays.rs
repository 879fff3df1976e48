//! PostgreSQL arrays cross the wire: a statement forwarded from the standby binds an array
//! of every element type sea-query's `ArrayType` has and PostgreSQL stores — full, empty
//! and NULL — exactly as the same statement run on the primary does, an update filtered by
//! array values changes the same rows, and an entity with array fields is inserted (its
//! `RETURNING` row read back as arrays), updated and filtered from the standby as on the
//! primary.

use repo_tests::postgres::PgCluster;
use repo_tests::postgres::array_columns::{Fill, at, column, create_table, insert, read};
use repo_tests::postgres::mood;
use repo_tests::postgres::nodes::PgNodes;
use repo_tests::postgres::tagged;
use sea_orm::prelude::{DateTimeUtc, Decimal, Uuid};
use sea_orm::sea_query::{ArrayType, Expr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement, Value,
};

fn runtime() -> tokio::runtime::Runtime {
    repo_tests::runtime()
}

#[test]
fn arrays_of_every_type_forwarded_from_the_standby_are_bound_as_on_the_primary() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster.primary.psql(mood::DDL[0]).expect("create the enum");
    cluster
        .primary
        .psql(&create_table())
        .expect("create the table");
    cluster
        .wait_replayed(std::time::Duration::from_secs(30))
        .expect("replicated");
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        for fill in [Fill::Full, Fill::Empty, Fill::Null] {
            let (forwarded, local) = (format!("forwarded {fill:?}"), format!("local {fill:?}"));
            let done = nodes
                .standby
                .repo()
                .execute_raw(insert(&forwarded, fill))
                .await
                .unwrap_or_else(|e| panic!("a forwarded insert of {fill:?} arrays: {e}"));
            assert_eq!(done.rows_affected(), 1);
            nodes
                .primary_db
                .execute_raw(insert(&local, fill))
                .await
                .expect("the same insert on the primary");
            let on_primary = read(&nodes.primary_db, &local).await;
            assert_eq!(
                read(&nodes.primary_db, &forwarded).await,
                on_primary,
                "{fill:?}"
            );
            // Read back on the standby (read-your-writes) the same.
            assert_eq!(
                read(&nodes.standby_db, &forwarded).await,
                on_primary,
                "{fill:?}"
            );
        }
        // An update filtered by array values (`=`, `@>`), and setting arrays.
        let update = |label: &str| {
            Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE arrays SET ints = $1, moods = $2::mood[] \
                 WHERE ints = $3 AND texts @> $4 AND label = $5",
                [
                    Value::from(vec![4_i32, 5]),
                    column("moods")(Fill::Empty),
                    column("ints")(Fill::Full),
                    Value::from(vec!["a,b".to_owned()]),
                    label.into(),
                ],
            )
        };
        let forwarded = nodes
            .standby
            .repo()
            .execute_raw(update("forwarded Full"))
            .await
            .expect("a forwarded update filtered by arrays");
        let local = nodes
            .primary_db
            .execute_raw(update("local Full"))
            .await
            .expect("the same update on the primary");
        assert_eq!(forwarded.rows_affected(), 1);
        assert_eq!(local.rows_affected(), 1);
        assert_eq!(
            read(&nodes.standby_db, "forwarded Full").await,
            read(&nodes.primary_db, "local Full").await
        );
        nodes.shutdown().await;
    });
}

#[test]
fn an_array_sea_query_cannot_bind_is_refused_before_it_is_bound() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster
        .primary
        .psql("CREATE TABLE odd (label text PRIMARY KEY, xs smallint[])")
        .expect("create the table");
    cluster
        .wait_replayed(std::time::Duration::from_secs(30))
        .expect("replicated");
    runtime().block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        // sea-query's PostgreSQL binder panics on both (locally too): a NULL element, and
        // any array of `u8`.
        let unbindable = [
            (
                "NULL element",
                Value::Array(
                    ArrayType::SmallInt,
                    Some(Box::new(vec![
                        Value::SmallInt(Some(1)),
                        Value::SmallInt(None),
                    ])),
                ),
            ),
            (
                "u8",
                Value::Array(
                    ArrayType::TinyUnsigned,
                    Some(Box::new(vec![Value::TinyUnsigned(Some(1))])),
                ),
            ),
        ];
        for (what, xs) in unbindable {
            let refused = nodes
                .standby
                .repo()
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO odd (label, xs) VALUES ($1, $2)",
                    [Value::from(what), xs],
                ))
                .await
                .expect_err(what);
            let message = refused.to_string();
            assert!(
                message.contains("array refused") && message.contains("cannot bind"),
                "{what}: {message}"
            );
            assert!(!message.contains("panicked"), "{what}: {message}");
        }
        let rows =
            repo_tests::postgres::nodes::scalar(&nodes.primary_db, "SELECT count(*) FROM odd")
                .await;
        assert_eq!(rows, 0);
        nodes.shutdown().await;
    });
}

fn tagged_row(label: &str, texts: Vec<String>, empty: bool) -> tagged::ActiveModel {
    let stamp: DateTimeUtc = at().to_utc();
    let (ints, nums) = if empty {
        (None, Some(Vec::new()))
    } else {
        (Some(vec![1, 2, 3]), Some(vec![Decimal::new(12345, 2)]))
    };
    tagged::ActiveModel {
        label: Set(label.to_owned()),
        ints: Set(ints),
        texts: Set(texts),
        stamps: Set(Some(vec![stamp, stamp])),
        nums: Set(nums),
        ids: Set(Some(vec![Uuid::from_u128(7)])),
        flags: Set(None),
        ..Default::default()
    }
}

/// The model without what differs by design (the id, the label).
fn content(m: &tagged::Model) -> tagged::Model {
    tagged::Model {
        id: 0,
        label: String::new(),
        ..m.clone()
    }
}

#[test]
fn an_entity_with_array_fields_is_written_and_filtered_from_the_standby_as_on_the_primary() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster.primary.psql(tagged::DDL).expect("create the table");
    cluster
        .wait_replayed(std::time::Duration::from_secs(30))
        .expect("replicated");
    runtime().block_on(async {
        // The entity is not registered: the typed API carries its row shape.
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let texts = || vec!["a".to_owned(), "b".to_owned()];
        for empty in [false, true] {
            let forwarded = nodes
                .standby
                .repo()
                .insert(tagged_row("forwarded", texts(), empty))
                .await
                .expect("a forwarded insert of array fields, RETURNING them");
            let local = tagged_row("local", texts(), empty)
                .insert(&nodes.primary_db)
                .await
                .expect("the same on the primary");
            assert_eq!(content(&forwarded), content(&local));
            let read = nodes
                .standby
                .repo()
                .get::<tagged::Entity>(forwarded.id)
                .await
                .expect("read")
                .expect("the row");
            assert_eq!(read, forwarded);
        }
        // An update filtered by an array, forwarded; the same on the primary.
        let update = |label: &str| {
            tagged::Entity::update_many()
                .col_expr(tagged::Column::Ints, Expr::val(vec![9_i32, 9]))
                .filter(tagged::Column::Ints.eq(vec![1_i32, 2, 3]))
                .filter(tagged::Column::Label.eq(label))
        };
        let forwarded = nodes
            .standby
            .repo()
            .update_all(update("forwarded"))
            .await
            .expect("a forwarded update filtered by an array");
        let local = update("local")
            .exec(&nodes.primary_db)
            .await
            .expect("the same on the primary");
        assert_eq!(forwarded.rows_affected, 1);
        assert_eq!(local.rows_affected, 1);
        // Found on the standby by the new array, as on the primary.
        let by_array = |db, label: &'static str| {
            tagged::Entity::find()
                .filter(tagged::Column::Ints.eq(vec![9_i32, 9]))
                .filter(tagged::Column::Label.eq(label))
                .one(db)
        };
        let on_standby = by_array(&nodes.standby_db, "forwarded")
            .await
            .expect("find");
        let on_primary = by_array(&nodes.primary_db, "local").await.expect("find");
        let (on_standby, on_primary) = (on_standby.expect("a row"), on_primary.expect("a row"));
        assert_eq!(content(&on_standby), content(&on_primary));
        assert_eq!(on_standby.ints, Some(vec![9, 9]));
        nodes.shutdown().await;
    });
}
