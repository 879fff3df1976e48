//! The allowlist in the PostgreSQL dialect: what sea-orm generates for PostgreSQL passes;
//! COPY, DO, CALL, DDL, SET, advisory locks and administrative functions are refused.
use crate::allowlist::*;

fn check(sql: &str) -> Result<StatementKind, Rejection> {
    check_statement_with(
        sql,
        &AllowlistPolicy::default().dialect(SqlDialect::Postgres),
    )
}

#[test]
fn sea_orm_postgres_statements_pass() {
    for (sql, kind) in [
        (
            r#"INSERT INTO "tags" ("name") VALUES ($1) RETURNING "id", "name""#,
            StatementKind::Insert,
        ),
        (
            r#"INSERT INTO "tags" ("name") VALUES ($1), ($2) ON CONFLICT ("name") DO UPDATE SET "name" = "excluded"."name" RETURNING "id""#,
            StatementKind::Insert,
        ),
        (
            r#"UPDATE "posts" SET "title" = $1, "meta" = $2::jsonb WHERE "posts"."id" = $3 RETURNING *"#,
            StatementKind::Update,
        ),
        (
            r#"DELETE FROM "public"."tags" WHERE "tags"."name" = ANY($1)"#,
            StatementKind::Delete,
        ),
        (
            r#"UPDATE "counters" SET "n" = "n" + 1 WHERE "id" = $1 AND "at" < now()"#,
            StatementKind::Update,
        ),
    ] {
        assert_eq!(check(sql), Ok(kind), "{sql}");
    }
}

#[test]
fn statements_that_are_not_dml_are_refused() {
    for sql in [
        "COPY tags FROM '/etc/passwd'",
        "COPY tags TO PROGRAM 'rm -rf /'",
        "DO $$ BEGIN PERFORM pg_sleep(10); END $$",
        "CALL do_things()",
        "SET statement_timeout = 0",
        "SET ROLE postgres",
        "RESET ALL",
        "CREATE TABLE x (a int)",
        "DROP TABLE tags",
        "ALTER TABLE tags ADD COLUMN x int",
        "TRUNCATE tags",
        "GRANT ALL ON tags TO public",
        "LISTEN x",
        "NOTIFY x",
        "BEGIN",
        "SELECT 1",
        "VACUUM",
        "LOCK TABLE tags",
        "INSERT INTO tags VALUES (1); DROP TABLE tags",
    ] {
        let refused = check(sql);
        assert!(
            refused.is_err(),
            "{sql:?} must be refused in the PostgreSQL dialect, got {refused:?}"
        );
    }
}

#[test]
fn functions_with_side_effects_are_refused() {
    for (sql, name) in [
        (
            "UPDATE tags SET name = 'x' WHERE pg_terminate_backend(42)",
            "pg_terminate_backend",
        ),
        (
            "UPDATE tags SET name = 'x' WHERE pg_cancel_backend(42)",
            "pg_cancel_backend",
        ),
        (
            "INSERT INTO tags (name) SELECT pg_advisory_lock(1)::text",
            "pg_advisory_lock",
        ),
        (
            "INSERT INTO tags (name) VALUES (pg_try_advisory_xact_lock(1)::text)",
            "pg_try_advisory_xact_lock",
        ),
        (
            "DELETE FROM tags WHERE pg_catalog.pg_sleep(5) IS NULL",
            "pg_sleep",
        ),
        (
            "INSERT INTO tags (name) VALUES (pg_read_file('/etc/passwd'))",
            "pg_read_file",
        ),
        (
            "UPDATE tags SET name = set_config('role', 'postgres', false)",
            "set_config",
        ),
        (
            "INSERT INTO tags (name) VALUES (lo_import('/etc/passwd')::text)",
            "lo_import",
        ),
        (
            "INSERT INTO tags (name) SELECT query_to_xml('select pg_reload_conf()', true, true, '')::text",
            "query_to_xml",
        ),
        (
            "UPDATE tags SET name = \"pg_reload_conf\"()::text",
            "pg_reload_conf",
        ),
        (
            "INSERT INTO tags (name) VALUES (setval('tags_id_seq', 1)::text)",
            "setval",
        ),
    ] {
        match check(sql) {
            Err(Rejection::ForbiddenFunction { name: refused }) => {
                assert_eq!(refused, name, "{sql}")
            }
            other => panic!("{sql:?} gave {other:?}, expected {name} refused"),
        }
    }
    // A name in a literal is data, not a call.
    assert_eq!(
        check("INSERT INTO tags (name) VALUES ('pg_terminate_backend(1)')"),
        Ok(StatementKind::Insert)
    );
}

#[test]
fn system_catalogs_are_not_targets() {
    for sql in [
        "UPDATE pg_catalog.pg_authid SET rolsuper = true",
        "DELETE FROM pg_database",
        "INSERT INTO information_schema.sql_features VALUES (1)",
        "UPDATE PG_CATALOG.pg_class SET relname = 'x'",
    ] {
        assert!(
            matches!(check(sql), Err(Rejection::SystemTable { .. })),
            "{sql:?} gave {:?}",
            check(sql)
        );
    }
}

#[test]
fn the_sqlite_dialect_is_unchanged_by_default() {
    // `?` placeholders and `pg_…` names mean nothing special to SQLite's allowlist.
    assert_eq!(
        check_statement_with(
            "INSERT INTO pg_notes (a) VALUES (?)",
            &AllowlistPolicy::default()
        ),
        Ok(StatementKind::Insert)
    );
    assert!(check("INSERT INTO pg_notes (a) VALUES ($1)").is_err());
}
