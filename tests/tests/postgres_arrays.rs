//! PostgreSQL arrays cross the wire: a statement forwarded from the standby binds an array
//! of every element type sea-query's `ArrayType` has and PostgreSQL stores — full, empty
//! and NULL — exactly as the same statement run on the primary does, an update filtered by
//! array values changes the same rows, and an entity with array fields is inserted (its
//! `RETURNING` row read back as arrays), updated and filtered from the standby as on the
//! primary.

use repo_tests::postgres::PgCluster;
use repo_tests::postgres::mood;
use repo_tests::postgres::nodes::PgNodes;
use repo_tests::postgres::tagged;
use sea_orm::prelude::{DateTimeUtc, Decimal, Uuid};
use sea_orm::sea_query::{ArrayType, Expr, OptionEnum};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
    Statement, Value,
};

/// Which array a row holds in every column.
#[derive(Clone, Copy, Debug)]
enum Fill {
    Full,
    Empty,
    Null,
}

fn array(ty: ArrayType, fill: Fill, items: Vec<Value>) -> Value {
    Value::Array(
        ty,
        match fill {
            Fill::Full => Some(Box::new(items)),
            Fill::Empty => Some(Box::default()),
            Fill::Null => None,
        },
    )
}

type Build = fn(Fill) -> Value;

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2026-11-30T04:05:06.789012+02:00").expect("instant")
}

fn moment() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(1_764_468_306_789_012_000).expect("instant")
}

/// One column per element type: its name, PostgreSQL type, the cast its placeholder needs,
/// and the array it is given.
const COLUMNS: &[(&str, &str, &str, Build)] = &[
    ("bools", "boolean[]", "", |f| {
        array(ArrayType::Bool, f, vec![true.into(), false.into()])
    }),
    ("tiny", "\"char\"[]", "", |f| {
        array(ArrayType::TinyInt, f, vec![1_i8.into(), (-2_i8).into()])
    }),
    ("small", "smallint[]", "", |f| {
        array(ArrayType::SmallInt, f, vec![i16::MIN.into(), 7_i16.into()])
    }),
    ("ints", "integer[]", "", |f| {
        array(ArrayType::Int, f, vec![1_i32.into(), i32::MAX.into()])
    }),
    ("bigs", "bigint[]", "", |f| {
        array(ArrayType::BigInt, f, vec![i64::MIN.into(), 0_i64.into()])
    }),
    ("small_u", "integer[]", "", |f| {
        array(ArrayType::SmallUnsigned, f, vec![u16::MAX.into()])
    }),
    ("unsigned", "bigint[]", "", |f| {
        array(ArrayType::Unsigned, f, vec![u32::MAX.into()])
    }),
    ("big_u", "bigint[]", "", |f| {
        array(ArrayType::BigUnsigned, f, vec![(i64::MAX as u64).into()])
    }),
    ("reals", "real[]", "", |f| {
        array(
            ArrayType::Float,
            f,
            vec![0.1_f32.into(), f32::INFINITY.into()],
        )
    }),
    ("doubles", "double precision[]", "", |f| {
        array(
            ArrayType::Double,
            f,
            vec![0.1_f64.into(), (-0.0_f64).into()],
        )
    }),
    ("texts", "text[]", "", |f| {
        array(
            ArrayType::String,
            f,
            vec!["a,b".into(), "\"q\" ü {}".into()],
        )
    }),
    // `TinyUnsigned` arrays: sea-query's PostgreSQL binder panics on every one; refused
    // before binding (`an_array_sea_query_cannot_bind_is_refused_before_it_is_bound`).
    ("moods", "mood[]", "::mood[]", |f| {
        let m = |v: &str| {
            Value::Enum(OptionEnum::Some(Box::new(sea_orm::sea_query::Enum {
                type_name: "mood".into(),
                value: v.to_owned().into(),
            })))
        };
        array(
            ArrayType::Enum(Box::new("mood".into())),
            f,
            vec![m("happy"), m("sad")],
        )
    }),
    ("chars", "text[]", "", |f| {
        array(ArrayType::Char, f, vec!['x'.into(), 'é'.into()])
    }),
    ("blobs", "bytea[]", "", |f| {
        array(
            ArrayType::Bytes,
            f,
            vec![vec![0_u8, 255].into(), Vec::<u8>::new().into()],
        )
    }),
    ("docs", "jsonb[]", "", |f| {
        let doc = serde_json::json!({"a": [1, 2.5, null], "ü": true});
        array(
            ArrayType::Json,
            f,
            vec![doc.into(), serde_json::json!(null).into()],
        )
    }),
    ("c_dates", "date[]", "", |f| {
        array(ArrayType::ChronoDate, f, vec![at().date_naive().into()])
    }),
    ("c_times", "time[]", "", |f| {
        array(ArrayType::ChronoTime, f, vec![at().time().into()])
    }),
    ("c_stamps", "timestamp[]", "", |f| {
        array(ArrayType::ChronoDateTime, f, vec![at().naive_utc().into()])
    }),
    ("c_utc", "timestamptz[]", "", |f| {
        array(ArrayType::ChronoDateTimeUtc, f, vec![at().to_utc().into()])
    }),
    ("c_local", "timestamptz[]", "", |f| {
        let local = at().with_timezone(&chrono::Local);
        array(ArrayType::ChronoDateTimeLocal, f, vec![local.into()])
    }),
    ("c_zoned", "timestamptz[]", "", |f| {
        array(ArrayType::ChronoDateTimeWithTimeZone, f, vec![at().into()])
    }),
    ("t_dates", "date[]", "", |f| {
        array(ArrayType::TimeDate, f, vec![moment().date().into()])
    }),
    ("t_times", "time[]", "", |f| {
        array(ArrayType::TimeTime, f, vec![moment().time().into()])
    }),
    ("t_stamps", "timestamp[]", "", |f| {
        let t = moment();
        let primitive = time::PrimitiveDateTime::new(t.date(), t.time());
        array(ArrayType::TimeDateTime, f, vec![primitive.into()])
    }),
    ("t_zoned", "timestamptz[]", "", |f| {
        array(
            ArrayType::TimeDateTimeWithTimeZone,
            f,
            vec![moment().into()],
        )
    }),
    ("uuids", "uuid[]", "", |f| {
        let u = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        array(ArrayType::Uuid, f, vec![u.into(), Uuid::nil().into()])
    }),
    ("nums", "numeric[]", "", |f| {
        let d: Decimal = "12345678901234.000000000001".parse().expect("decimal");
        array(ArrayType::Decimal, f, vec![d.into(), Decimal::ZERO.into()])
    }),
];

fn column(name: &str) -> Build {
    COLUMNS
        .iter()
        .find(|c| c.0 == name)
        .map(|c| c.3)
        .expect("a column")
}

fn create_table() -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, ty, _, _)| format!("{name} {ty}"))
        .collect();
    format!(
        "CREATE TABLE arrays (label text PRIMARY KEY, {})",
        columns.join(", ")
    )
}

fn insert(label: &str, fill: Fill) -> Statement {
    let placeholders: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, _, cast, _))| format!("${}{cast}", i + 2))
        .collect();
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.0).collect();
    let sql = format!(
        "INSERT INTO arrays (label, {}) VALUES ($1, {})",
        names.join(", "),
        placeholders.join(", ")
    );
    let values = std::iter::once(Value::from(label)).chain(COLUMNS.iter().map(|c| (c.3)(fill)));
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Every column of the row as PostgreSQL prints it (nothing is lost in reading).
async fn read(db: &impl ConnectionTrait, label: &str) -> Vec<String> {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, _, _, _)| format!("coalesce({name}::text, '<null>')"))
        .collect();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {} FROM arrays WHERE label = $1", columns.join(", ")),
            [label.into()],
        ))
        .await
        .expect("read")
        .expect("a row");
    (0..COLUMNS.len())
        .map(|i| row.try_get_by_index::<String>(i).expect("text"))
        .collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
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
