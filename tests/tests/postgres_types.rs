//! Values of PostgreSQL's common types cross the wire: a statement forwarded from the
//! standby binds UUID, JSONB, `timestamptz`, `numeric`, `bytea`, `boolean`, `double
//! precision` and NULL on the primary exactly as the same statement run there does; a
//! PostgreSQL enum column is written and read back through its entity from the standby.
//! Arrays: `postgres_arrays.rs`.

use std::str::FromStr;

use repo_tests::postgres::PgCluster;
use repo_tests::postgres::mood::{self, Mood};
use repo_tests::postgres::nodes::PgNodes;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, QueryFilter,
    Set, Statement, Value,
};

const TABLE: &str = "CREATE TABLE typed (label text PRIMARY KEY, u uuid, j jsonb, \
     ts timestamptz, n numeric, b bytea, f boolean, d double precision, missing text)";

const INSERT: &str = "INSERT INTO typed (label, u, j, ts, n, b, f, d, missing) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

fn values(label: &str) -> Vec<Value> {
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T04:05:06.789012+02:00")
        .expect("timestamp");
    vec![
        label.into(),
        uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef).into(),
        serde_json::json!({"a": [1, 2.5, "three", null], "ü": true}).into(),
        at.into(),
        rust_decimal::Decimal::from_str("12345678901234.000000000001")
            .expect("decimal")
            .into(),
        vec![0_u8, 1, 255, 0].into(),
        true.into(),
        0.1_f64.into(),
        Value::String(None),
    ]
}

/// The row as PostgreSQL prints it (every column as text, so nothing is lost in reading).
const READ: &str = "SELECT u::text, j::text, ts::text, n::text, encode(b, 'hex'), f::text, \
     d::text, coalesce(missing, '<null>') FROM typed WHERE label = $1";

async fn read(db: &impl ConnectionTrait, label: &str) -> Vec<String> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            READ,
            [label.into()],
        ))
        .await
        .expect("read")
        .expect("a row");
    (0..8)
        .map(|i| row.try_get_by_index::<String>(i).expect("text"))
        .collect()
}

#[test]
fn values_forwarded_from_the_standby_are_bound_as_on_the_primary() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    cluster.primary.psql(TABLE).expect("create the table");
    cluster
        .wait_replayed(std::time::Duration::from_secs(30))
        .expect("replicated");
    let rt = repo_tests::runtime();
    rt.block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let forwarded = nodes
            .standby
            .repo()
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                INSERT,
                values("forwarded"),
            ))
            .await
            .expect("a forwarded insert");
        assert_eq!(forwarded.rows_affected(), 1);
        nodes
            .primary_db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                INSERT,
                values("local"),
            ))
            .await
            .expect("the same insert on the primary");
        let local = read(&nodes.primary_db, "local").await;
        assert_eq!(read(&nodes.primary_db, "forwarded").await, local);
        // And read back on the standby (read-your-writes) the same.
        assert_eq!(read(&nodes.standby_db, "forwarded").await, local);
        nodes.shutdown().await;
    });
}

#[test]
fn a_postgres_enum_crosses_the_wire_both_ways() {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    for ddl in mood::DDL {
        cluster
            .primary
            .psql(ddl)
            .expect("create the type and table");
    }
    cluster
        .wait_replayed(std::time::Duration::from_secs(30))
        .expect("replicated");
    let rt = repo_tests::runtime();
    rt.block_on(async {
        // The entity is not registered: the typed API carries its shape.
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let row = |label: &str, m, maybe| mood::ActiveModel {
            label: Set(label.to_owned()),
            m: Set(m),
            maybe: Set(maybe),
            ..Default::default()
        };
        // A typed insert (sea-orm casts the bound text to `mood`, and back in RETURNING).
        let forwarded = nodes
            .standby
            .repo()
            .insert(row("forwarded", Mood::Happy, Some(Mood::Sad)))
            .await
            .expect("a forwarded insert of enum values");
        let local = row("local", Mood::Happy, Some(Mood::Sad))
            .insert(&nodes.primary_db)
            .await
            .expect("the same on the primary");
        assert_eq!((forwarded.m, forwarded.maybe), (local.m, local.maybe));
        let null = nodes
            .standby
            .repo()
            .insert(row("null", Mood::Ok, None))
            .await
            .expect("NULL enum");
        assert_eq!(null.maybe, None);
        // Read back on the standby, as stored on the primary.
        let read = nodes
            .standby
            .repo()
            .get::<mood::Entity>(forwarded.id)
            .await
            .expect("read")
            .expect("the row");
        assert_eq!(read, forwarded);
        let on_primary: String = nodes
            .primary_db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                format!(
                    "SELECT m::text || '/' || maybe::text FROM moods WHERE id = {}",
                    forwarded.id
                ),
            ))
            .await
            .expect("query")
            .expect("row")
            .try_get_by_index(0)
            .expect("text");
        assert_eq!(on_primary, "happy/sad");
        // An update through the enum filter, forwarded.
        let changed = nodes
            .standby
            .repo()
            .update_all(
                mood::Entity::update_many()
                    .col_expr(mood::Column::M, Expr::val(Mood::Sad).as_enum("mood"))
                    .filter(mood::Column::M.eq(Mood::Happy)),
            )
            .await
            .expect("a forwarded update with enum values");
        assert_eq!(changed.rows_affected, 2);
        // Through `&repo` as a sea-orm connection, without the entity registered: the
        // RETURNING row is typed by its columns' declared types (the enum as its label) and
        // decodes as it does locally.
        let unregistered = row("via connection", Mood::Ok, None)
            .insert(nodes.standby.repo())
            .await
            .expect("an unregistered row, typed by its declared types");
        assert_eq!((unregistered.m, unregistered.maybe), (Mood::Ok, None));
        assert_eq!(written(&nodes.primary_db).await, 1);
        nodes.shutdown().await;
        // Registered, it reads through the entity's shape.
        let registered = PgNodes::start(&cluster, |c| c.repo(|b| b.entity::<mood::Entity>())).await;
        let via_connection = row("via connection", Mood::Sad, Some(Mood::Happy))
            .insert(registered.standby.repo())
            .await
            .expect("registered: the row reads through its shape");
        assert_eq!(
            (via_connection.m, via_connection.maybe),
            (Mood::Sad, Some(Mood::Happy))
        );
        assert_eq!(written(&registered.primary_db).await, 2);
        registered.shutdown().await;
    });
}

/// Rows the `&repo` inserts wrote.
async fn written(db: &sea_orm::DatabaseConnection) -> i64 {
    repo_tests::postgres::nodes::scalar(
        db,
        "SELECT count(*) FROM moods WHERE label = 'via connection'",
    )
    .await
}
