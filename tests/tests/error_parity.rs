//! Every error SQLite raises arrives on a replica as the error a local write gets: the same
//! `DbErr` variant, `sql_err()`, extended code, message, `kind()` and `Display`, and the
//! same `RepoError` from the typed API. Each case runs on a replica (forwarded to the
//! primary), on the primary itself (local) and on a twin database (local), through the
//! `ConnectionTrait` path as an `Exec` and, with `RETURNING`, as a `Query`.

use repo_core::{Repo, RepoError};
use repo_tests::cluster::Cluster;
use repo_tests::write_script::twin;
use sea_orm::entity::prelude::*;
use sea_orm::sqlx::{self, Connection as _, sqlite::SqliteError};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, NotSet, RuntimeErr, Set, SqlErr, Statement,
};

/// A table with UNIQUE, NOT NULL, named and unnamed CHECK constraints and a unique index
/// on an expression; a composite WITHOUT ROWID key; a foreign key with RESTRICT; a STRICT
/// table; a trigger that raises.
const SCHEMA: &[&str] = &[
    "CREATE TABLE ep_items (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, \
     qty INTEGER NOT NULL CHECK (qty >= 0), CONSTRAINT \"qty below 100\" CHECK (qty < 100))",
    "CREATE UNIQUE INDEX ep_items_lower_email ON ep_items (lower(email))",
    "CREATE TABLE ep_pairs (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID",
    "CREATE TABLE ep_parents (id INTEGER PRIMARY KEY)",
    "CREATE TABLE ep_children (id INTEGER PRIMARY KEY, \
     parent_id INTEGER REFERENCES ep_parents (id) ON DELETE RESTRICT)",
    "CREATE TABLE ep_strict (id INTEGER PRIMARY KEY, n INTEGER, r REAL, b BLOB) STRICT",
    "CREATE TABLE ep_guarded (id INTEGER PRIMARY KEY, v TEXT)",
    "CREATE TRIGGER ep_guard BEFORE INSERT ON ep_guarded WHEN NEW.v = 'abort' \
     BEGIN SELECT RAISE(ABORT, 'custom message: it''s guarded'); END",
    "CREATE TRIGGER ep_guard_fail BEFORE INSERT ON ep_guarded WHEN NEW.v = 'fail' \
     BEGIN SELECT RAISE(FAIL, 'failed by \"trigger\"'); END",
    "CREATE TABLE ep_blobs (id INTEGER PRIMARY KEY, b)",
    "INSERT INTO ep_items (id, email, qty) VALUES (1, 'a@x', 1)",
    "INSERT INTO ep_pairs VALUES ('a', 'b')",
    "INSERT INTO ep_parents VALUES (1)",
    "INSERT INTO ep_children VALUES (1, 1)",
];

/// How SQLite's error reaches the replica.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Arrives {
    /// Re-raised on the replica: a genuine sqlx `SqliteError`.
    Reraised,
    /// Carried with its code and message (no way to make SQLite raise it on demand).
    Carried,
}

/// One failing statement, the extended code it must fail with, and how it arrives.
struct Case {
    name: &'static str,
    sql: &'static str,
    code: &'static str,
    arrives: Arrives,
}

const fn case(name: &'static str, sql: &'static str, code: &'static str, arrives: Arrives) -> Case {
    Case {
        name,
        sql,
        code,
        arrives,
    }
}

use Arrives::{Carried, Reraised};

const CASES: &[Case] = &[
    case(
        "unique",
        "INSERT INTO ep_items (email, qty) VALUES ('a@x', 1)",
        "2067",
        Reraised,
    ),
    case(
        "unique expression index",
        "INSERT INTO ep_items (email, qty) VALUES ('A@x', 1)",
        "2067",
        Reraised,
    ),
    case(
        "unique in an update",
        "UPDATE ep_items SET email = 'a@x' WHERE id = 2",
        "2067",
        Reraised,
    ),
    case(
        "rowid primary key",
        "INSERT INTO ep_items (id, email, qty) VALUES (1, 'b@x', 1)",
        "1555",
        Reraised,
    ),
    case(
        "without rowid primary key",
        "INSERT INTO ep_pairs VALUES ('a', 'b')",
        "1555",
        Reraised,
    ),
    case(
        "not null",
        "INSERT INTO ep_items (email, qty) VALUES (NULL, 1)",
        "1299",
        Reraised,
    ),
    case(
        "check (expression)",
        "INSERT INTO ep_items (email, qty) VALUES ('c@x', -1)",
        "275",
        Reraised,
    ),
    case(
        "check (named)",
        "INSERT INTO ep_items (email, qty) VALUES ('c@x', 100)",
        "275",
        Reraised,
    ),
    case(
        "check in an update",
        "UPDATE ep_items SET qty = -5 WHERE id = 1",
        "275",
        Reraised,
    ),
    case(
        "foreign key on insert",
        "INSERT INTO ep_children (parent_id) VALUES (42)",
        "787",
        Reraised,
    ),
    case(
        "foreign key on update",
        "UPDATE ep_children SET parent_id = 42 WHERE id = 1",
        "787",
        Reraised,
    ),
    // SQLite enforces RESTRICT with an internal trigger: SQLITE_CONSTRAINT_TRIGGER, with
    // the foreign-key message, which sea-orm's `sql_err()` does not classify.
    case(
        "foreign key restrict on delete",
        "DELETE FROM ep_parents WHERE id = 1",
        "1811",
        Reraised,
    ),
    case(
        "trigger raise(abort)",
        "INSERT INTO ep_guarded (v) VALUES ('abort')",
        "1811",
        Reraised,
    ),
    case(
        "trigger raise(fail)",
        "INSERT INTO ep_guarded (v) VALUES ('fail')",
        "1811",
        Reraised,
    ),
    case(
        "strict datatype (text in integer)",
        "INSERT INTO ep_strict (n) VALUES ('abc')",
        "3091",
        Reraised,
    ),
    case(
        "strict datatype (blob in real)",
        "INSERT INTO ep_strict (r) VALUES (x'00')",
        "3091",
        Reraised,
    ),
    case(
        // 25 nested hex() double one byte into 32 MiB (zeroblob is refused when forwarded).
        "too big (over the writer's 16 MiB length limit)",
        "INSERT INTO ep_blobs (b) VALUES (hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(hex(x'00'))))))))))))))))))))))))))",
        "18",
        Reraised,
    ),
    case(
        "error: integer overflow",
        "INSERT INTO ep_blobs (b) VALUES (abs(-9223372036854775807 - 1))",
        "1",
        Carried,
    ),
    case(
        "error: malformed JSON",
        "INSERT INTO ep_blobs (b) VALUES (json('{'))",
        "1",
        Carried,
    ),
    case(
        "error: no such table",
        "INSERT INTO ep_missing (b) VALUES (1)",
        "1",
        Carried,
    ),
];

/// Everything a caller can observe about a `DbErr`.
#[derive(Debug, PartialEq)]
struct Observed {
    variant: &'static str,
    sql_err: Option<SqlErr>,
    code: Option<String>,
    message: Option<String>,
    kind: Option<String>,
    display: String,
}

fn observe(err: &DbErr) -> Observed {
    let (variant, runtime) = match err {
        DbErr::Exec(r) => ("Exec", Some(r)),
        DbErr::Query(r) => ("Query", Some(r)),
        DbErr::Conn(r) => ("Conn", Some(r)),
        _ => ("other", None),
    };
    let db = match runtime {
        Some(RuntimeErr::SqlxError(e)) => e.as_database_error(),
        _ => None,
    };
    Observed {
        variant,
        sql_err: err.sql_err(),
        code: db.and_then(|d| d.code()).map(|c| c.into_owned()),
        message: db.map(|d| d.message().to_owned()),
        kind: db.map(|d| format!("{:?}", d.kind())),
        display: err.to_string(),
    }
}

/// Whether the error wraps sqlx's own `SqliteError`.
fn is_genuine(err: &DbErr) -> bool {
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    e.as_database_error()
        .and_then(|d| d.try_downcast_ref::<SqliteError>())
        .is_some()
}

async fn create_schema(db: &impl ConnectionTrait) {
    for sql in SCHEMA {
        db.execute_unprepared(sql).await.expect(sql);
    }
    db.execute_unprepared("INSERT INTO ep_items (id, email, qty) VALUES (2, 'b@x', 2)")
        .await
        .expect("second item");
}

/// The error of `sql` on `repo`, through `execute` (an `Exec`) or, with `RETURNING`,
/// `query_all` (a `Query`).
async fn fail(repo: &Repo, sql: &str, returning: bool) -> DbErr {
    let backend = repo.get_database_backend();
    if returning {
        let stmt = Statement::from_string(backend, format!("{sql} RETURNING 1"));
        repo.query_all_raw(stmt).await.err()
    } else {
        repo.execute_raw(Statement::from_string(backend, sql))
            .await
            .err()
    }
    .unwrap_or_else(|| panic!("`{sql}` succeeded"))
}

#[tokio::test]
async fn every_sqlite_error_class_is_the_same_forwarded_and_local() {
    let cluster = Cluster::start(1).await;
    let (_dir, twin) = twin().await;
    create_schema(&cluster.primary().db).await;
    create_schema(twin.connection()).await;
    let replica = &cluster.replica(1).repo;
    let primary = &cluster.primary().repo;

    let mut mismatches = Vec::new();
    for case in CASES {
        for returning in [false, true] {
            let label = format!(
                "{} ({})",
                case.name,
                if returning { "Query" } else { "Exec" }
            );
            let forwarded = fail(replica, case.sql, returning).await;
            let on_primary = fail(primary, case.sql, returning).await;
            let on_twin = fail(&twin, case.sql, returning).await;
            let local = observe(&on_primary);
            assert_eq!(local, observe(&on_twin), "{label}: primary and twin differ");
            assert_eq!(
                local.code.as_deref(),
                Some(case.code),
                "{label}: the case raises another error: {on_primary}"
            );
            if observe(&forwarded) != local {
                mismatches.push(format!(
                    "{label}:\n  forwarded {:?}\n  local     {local:?}",
                    observe(&forwarded)
                ));
            } else if is_genuine(&forwarded) != (case.arrives == Reraised) {
                mismatches.push(format!(
                    "{label}: expected {:?}, genuine = {}",
                    case.arrives,
                    is_genuine(&forwarded)
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(
        cluster.replica(1).executed.count(),
        0,
        "everything forwarded"
    );
}

/// The items table as an entity, for the typed API and sea-orm's own.
#[allow(unreachable_pub)]
mod item {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ep_items")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub email: Option<String>,
        pub qty: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

fn item(id: Option<i64>, email: Option<&str>, qty: i64) -> item::ActiveModel {
    item::ActiveModel {
        id: id.map_or(NotSet, Set),
        email: Set(email.map(str::to_owned)),
        qty: Set(qty),
    }
}

/// What a caller can observe about a `RepoError`.
fn observe_repo(err: &RepoError) -> (String, Option<SqlErr>, &'static str, bool, Option<Observed>) {
    let db = match err {
        RepoError::Database(e) => Some(observe(e)),
        _ => None,
    };
    (
        err.to_string(),
        err.sql_err(),
        err.kind(),
        err.is_transient(),
        db,
    )
}

#[tokio::test]
async fn typed_and_sea_orm_writes_fail_alike_forwarded_and_local() {
    let cluster = Cluster::start(1).await;
    let (_dir, twin) = twin().await;
    create_schema(&cluster.primary().db).await;
    create_schema(twin.connection()).await;
    let replica = &cluster.replica(1).repo;

    let models = [
        ("unique", item(None, Some("a@x"), 1)),
        ("primary key", item(Some(1), Some("z@x"), 1)),
        ("not null", item(None, None, 1)),
        ("check", item(None, Some("c@x"), -1)),
        ("named check", item(None, Some("c@x"), 100)),
    ];
    for (name, am) in models {
        let forwarded = replica.insert(am.clone()).await.expect_err(name);
        let local = twin.insert(am.clone()).await.expect_err(name);
        assert_eq!(
            observe_repo(&forwarded),
            observe_repo(&local),
            "typed {name}"
        );

        let forwarded = am.clone().insert(replica).await.expect_err(name);
        let local = am.clone().insert(&twin).await.expect_err(name);
        assert_eq!(observe(&forwarded), observe(&local), "am.insert {name}");

        let forwarded = item::Entity::insert(am.clone())
            .exec(replica)
            .await
            .expect_err(name);
        let local = item::Entity::insert(am).exec(&twin).await.expect_err(name);
        assert_eq!(
            observe(&forwarded),
            observe(&local),
            "Entity::insert {name}"
        );
    }

    let update = item(Some(1), Some("a@x"), -3);
    let forwarded = replica.update(update.clone()).await.expect_err("update");
    let local = twin.update(update).await.expect_err("update");
    assert_eq!(
        observe_repo(&forwarded),
        observe_repo(&local),
        "typed update"
    );
}

#[tokio::test]
async fn busy_is_the_same_forwarded_and_local() {
    let cluster = Cluster::start(1).await;
    // The application waits 200 ms for a lock (its writer copies the setting when it
    // connects, on the first write), well inside the writer's maximum statement time.
    cluster
        .primary()
        .db
        .execute_unprepared("PRAGMA busy_timeout = 200")
        .await
        .expect("busy_timeout");
    create_schema(&cluster.primary().db).await;
    // Another process holds the primary's write lock.
    let url = format!("sqlite://{}", cluster.path(0).display());
    let mut holder = sqlx::SqliteConnection::connect(&url).await.expect("open");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .expect("lock");

    let sql = "INSERT INTO ep_blobs (b) VALUES (1)";
    let (forwarded, local) = tokio::join!(
        fail(&cluster.replica(1).repo, sql, false),
        fail(&cluster.primary().repo, sql, false),
    );
    let local = observe(&local);
    assert_eq!(local.code.as_deref(), Some("5"), "{local:?}");
    assert_eq!(observe(&forwarded), local);
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .expect("unlock");
}

/// Codes no cluster statement provokes (the writer's own settings stand in the way), and
/// identifiers that make messages hard to parse: each raised locally, then through the
/// wire encoding and back, as a forwarded error is.
#[tokio::test]
async fn errors_through_the_wire_encoding_stay_the_same() {
    use repo_litefs::convert::{decode_db_err, encode_db_err};
    use sea_orm::{ConnectOptions, Database};

    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("wire.db").display());
    let db = Database::connect(
        ConnectOptions::new(url.clone())
            .max_connections(1)
            .to_owned(),
    )
    .await
    .expect("open");
    for sql in [
        "CREATE TABLE spill (x)",
        "CREATE TABLE \"odd.name, with\"\"quotes\" (\"a.b, c\" UNIQUE, \"n\" NOT NULL)",
        "INSERT INTO \"odd.name, with\"\"quotes\" VALUES (1, 1)",
        "CREATE TABLE \"t\" (x, CONSTRAINT \"it's \"\"quoted\"\", ok\" CHECK (x > 0))",
    ] {
        db.execute_unprepared(sql).await.expect(sql);
    }
    let read_only = Database::connect(format!(
        "sqlite://{}?mode=ro",
        dir.path().join("wire.db").display()
    ))
    .await
    .expect("open read-only");

    let cases: [(&str, &DatabaseConnection, &str, &str, Arrives); 5] = [
        (
            "unique, odd names",
            &db,
            "INSERT INTO \"odd.name, with\"\"quotes\" VALUES (1, 2)",
            "2067",
            Reraised,
        ),
        (
            "not null, odd names",
            &db,
            "INSERT INTO \"odd.name, with\"\"quotes\" VALUES (2, NULL)",
            "1299",
            Reraised,
        ),
        (
            "check, quoted name",
            &db,
            "INSERT INTO \"t\" VALUES (0)",
            "275",
            Reraised,
        ),
        (
            "full",
            &db,
            "INSERT INTO spill VALUES (zeroblob(1000000))",
            "13",
            Reraised,
        ),
        (
            "read-only",
            &read_only,
            "INSERT INTO spill VALUES (1)",
            "8",
            Carried,
        ),
    ];
    // A database of a few pages fills at once.
    db.execute_unprepared("PRAGMA max_page_count = 10")
        .await
        .expect("max_page_count");
    for (name, conn, sql, code, arrives) in cases {
        let local = conn.execute_unprepared(sql).await.expect_err(name);
        let forwarded = decode_db_err(encode_db_err(&local)).await;
        let local_seen = observe(&local);
        assert_eq!(local_seen.code.as_deref(), Some(code), "{name}: {local}");
        assert_eq!(observe(&forwarded), local_seen, "{name}");
        assert_eq!(
            is_genuine(&forwarded),
            arrives == Reraised,
            "{name}: {arrives:?}"
        );
    }
}
