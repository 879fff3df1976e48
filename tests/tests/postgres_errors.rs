//! A constraint violation forwarded from the standby is the error the same statement raises
//! on the primary, as far as a caller can observe it: the `DbErr` variant, `sql_err()`,
//! sqlx's `DatabaseError` (`code()`, `message()`, `kind()`, `constraint()`, `table()`) and
//! `PgDatabaseError`'s fields (`detail()`, `hint()`, `schema()`, `column()`,
//! `data_type()`, severity). One test per violation class: unique, foreign key, check, not
//! null. What cannot match (PostgreSQL's context fields of a re-raised error) is listed in
//! docs/BACKENDS.md and checked here to be the only difference.

use repo_tests::postgres::PgCluster;
use repo_tests::postgres::nodes::PgNodes;
use sea_orm::sqlx::postgres::PgDatabaseError;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, RuntimeErr, Statement};

const SCHEMA: [&str; 4] = [
    "CREATE TABLE parents (id int PRIMARY KEY)",
    "CREATE TABLE children (id int PRIMARY KEY, parent int REFERENCES parents (id), \
     name text NOT NULL, age int CHECK (age >= 0), email text UNIQUE)",
    "INSERT INTO parents VALUES (1); \
     INSERT INTO children VALUES (1, 1, 'a', 1, 'a@example.com')",
    // An application's own error, with every field `RAISE` can set.
    "CREATE TABLE refusals (id int); \
     CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
     RAISE EXCEPTION 'refused by a trigger' USING DETAIL = 'refusals take no rows', \
     HINT = 'write elsewhere', ERRCODE = 'P0001', TABLE = 'refusals'; END $$; \
     CREATE TRIGGER refuse BEFORE INSERT ON refusals FOR EACH ROW EXECUTE FUNCTION refuse()",
];

/// What a caller can observe of a database error.
#[derive(Debug, PartialEq)]
struct Observed {
    variant: &'static str,
    sql_err: Option<String>,
    code: Option<String>,
    message: String,
    kind: String,
    constraint: Option<String>,
    table: Option<String>,
    /// `PgDatabaseError`'s own fields, when it is one.
    pg: Option<PgFields>,
    /// `Display`, without PostgreSQL's source line (`… at line N`: see below).
    display: String,
}

#[derive(Debug, PartialEq)]
struct PgFields {
    severity: String,
    detail: Option<String>,
    hint: Option<String>,
    schema: Option<String>,
    column: Option<String>,
    data_type: Option<String>,
}

/// The fields that name where PostgreSQL raised the error: its C source file, line and
/// function, and the PL/pgSQL context. A re-raised error's are `RAISE`'s.
#[derive(Debug, PartialEq)]
struct Origin {
    file: Option<String>,
    line: Option<usize>,
    routine: Option<String>,
    context: Option<String>,
}

fn observe(err: &DbErr) -> (Observed, Option<Origin>) {
    let (variant, runtime) = match err {
        DbErr::Exec(e) => ("Exec", e),
        DbErr::Query(e) => ("Query", e),
        other => panic!("not a statement's error: {other:?}"),
    };
    let RuntimeErr::SqlxError(sqlx_err) = runtime else {
        panic!("not a driver error: {runtime:?}");
    };
    let db = sqlx_err.as_database_error().expect("a database error");
    let pg = db.try_downcast_ref::<PgDatabaseError>();
    let display = err.to_string();
    let display = match display.rfind(" at line ") {
        Some(at) => display[..at].to_owned(),
        None => display,
    };
    let observed = Observed {
        variant,
        sql_err: err.sql_err().map(|e| format!("{e:?}")),
        code: db.code().map(|c| c.into_owned()),
        message: db.message().to_owned(),
        kind: format!("{:?}", db.kind()),
        constraint: db.constraint().map(str::to_owned),
        table: db.table().map(str::to_owned),
        pg: pg.map(|pg| PgFields {
            severity: format!("{:?}", pg.severity()),
            detail: pg.detail().map(str::to_owned),
            hint: pg.hint().map(str::to_owned),
            schema: pg.schema().map(str::to_owned),
            column: pg.column().map(str::to_owned),
            data_type: pg.data_type().map(str::to_owned),
        }),
        display,
    };
    let origin = pg.map(|pg| Origin {
        file: pg.file().map(str::to_owned),
        line: pg.line(),
        routine: pg.routine().map(str::to_owned),
        context: pg.r#where().map(str::to_owned),
    });
    (observed, origin)
}

/// Runs `sql` on the primary and, forwarded, from the standby: both must fail with what a
/// caller observes as the same error, and `code` must be its SQLSTATE.
fn same_error_forwarded_as_local(sql: &str, code: &str) {
    let Some(cluster) = PgCluster::start_or_skip() else {
        return;
    };
    for ddl in SCHEMA {
        cluster.primary.psql(ddl).expect("schema");
    }
    cluster
        .wait_replayed(std::time::Duration::from_secs(30))
        .expect("replicated");
    let rt = repo_tests::runtime();
    rt.block_on(async {
        let nodes = PgNodes::start(&cluster, |c| c).await;
        let statement = || Statement::from_string(DbBackend::Postgres, sql);
        let local = nodes
            .primary_db
            .execute_raw(statement())
            .await
            .expect_err("a violation on the primary");
        let forwarded = nodes
            .standby
            .repo()
            .execute_raw(statement())
            .await
            .expect_err("the same violation, forwarded");
        let (local, local_origin) = observe(&local);
        let (forwarded, forwarded_origin) = observe(&forwarded);
        assert_eq!(local.code.as_deref(), Some(code));
        assert!(local.pg.is_some(), "a genuine PgDatabaseError locally");
        assert_eq!(forwarded, local);
        // Where PostgreSQL raised it is the one difference: the re-raised error is
        // PL/pgSQL's `RAISE` in a `DO` block (docs/BACKENDS.md).
        let forwarded_origin = forwarded_origin.expect("a genuine PgDatabaseError forwarded");
        assert_eq!(forwarded_origin.file.as_deref(), Some("pl_exec.c"));
        assert_ne!(Some(forwarded_origin), local_origin);
        nodes.shutdown().await;
    });
}

#[test]
fn a_unique_violation_forwarded_is_the_local_one() {
    same_error_forwarded_as_local(
        "INSERT INTO children VALUES (2, 1, 'b', 1, 'a@example.com')",
        "23505",
    );
}

#[test]
fn a_foreign_key_violation_forwarded_is_the_local_one() {
    same_error_forwarded_as_local(
        "INSERT INTO children VALUES (2, 99, 'b', 1, 'b@example.com')",
        "23503",
    );
}

#[test]
fn a_check_violation_forwarded_is_the_local_one() {
    same_error_forwarded_as_local(
        "INSERT INTO children VALUES (2, 1, 'b', -1, 'b@example.com')",
        "23514",
    );
}

#[test]
fn a_not_null_violation_forwarded_is_the_local_one() {
    same_error_forwarded_as_local("UPDATE children SET name = NULL WHERE id = 1", "23502");
}

#[test]
fn an_error_raised_by_a_trigger_with_detail_and_hint_forwarded_is_the_local_one() {
    same_error_forwarded_as_local("INSERT INTO refusals VALUES (1)", "P0001");
}
