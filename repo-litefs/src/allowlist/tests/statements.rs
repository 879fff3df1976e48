//! The allowlist's cases: every allowed shape, every refusal, and no panic on any input.
use crate::allowlist::*;
use proptest::prelude::*;

fn refused_as(sql: &str) -> String {
    match check_statement(sql) {
        Err(Rejection::NotDataChanging { kind }) => kind,
        other => panic!("{sql:?} gave {other:?}, expected NotDataChanging"),
    }
}

fn is_unparsable(sql: &str) -> bool {
    matches!(check_statement(sql), Err(Rejection::Unparsable { .. }))
}

#[test]
fn sea_orm_statements_pass() {
    for (sql, kind) in [
        (
            r#"INSERT INTO "posts" ("title", "slug") VALUES (?, ?) RETURNING "id", "title""#,
            StatementKind::Insert,
        ),
        (
            r#"UPDATE "tags" SET "name" = upper(name) WHERE "tags"."name" LIKE ?"#,
            StatementKind::Update,
        ),
        (
            r#"DELETE FROM "tags" WHERE "tags"."name" <> ? RETURNING *"#,
            StatementKind::Delete,
        ),
        (
            r#"INSERT INTO "tags" ("name") VALUES (?), (?) ON CONFLICT ("name") DO UPDATE SET "name" = "excluded"."name" RETURNING "id", "name""#,
            StatementKind::Insert,
        ),
        (
            r#"INSERT INTO "tags" ("name") VALUES (?) ON CONFLICT ("name") DO NOTHING"#,
            StatementKind::Insert,
        ),
    ] {
        assert_eq!(check_statement(sql), Ok(kind), "{sql}");
    }
}

#[test]
fn insert_forms_pass() {
    for sql in [
        "INSERT INTO t DEFAULT VALUES",
        "INSERT OR REPLACE INTO t (a) VALUES (1)",
        "INSERT OR IGNORE INTO t (a) VALUES (1)",
        "INSERT OR ROLLBACK INTO t VALUES (1)",
        "INSERT OR ABORT INTO t VALUES (1)",
        "INSERT OR FAIL INTO t VALUES (1)",
        "INSERT INTO t (a) SELECT b FROM u WHERE b > ?",
        "INSERT INTO main.t VALUES (:a, @b, $c, ?1)",
        "insert into t values (1) returning *",
    ] {
        assert_eq!(check_statement(sql), Ok(StatementKind::Insert), "{sql}");
    }
}

#[test]
fn replace_into_is_reported_as_replace() {
    assert_eq!(
        check_statement("REPLACE INTO t (a) VALUES (1)"),
        Ok(StatementKind::Replace)
    );
    assert_eq!(
        check_statement("/* c */ replace into t VALUES (1)"),
        Ok(StatementKind::Replace)
    );
}

#[test]
fn update_and_delete_forms_pass() {
    for sql in [
        "UPDATE t SET a = 1 RETURNING a, b",
        "UPDATE OR IGNORE t SET a = 1",
        "UPDATE OR REPLACE t SET a = 1 WHERE id = ?",
        "UPDATE t SET a = s.a FROM s WHERE s.id = t.id",
        "UPDATE t AS x SET a = 1",
    ] {
        assert_eq!(check_statement(sql), Ok(StatementKind::Update), "{sql}");
    }
    assert_eq!(
        check_statement("DELETE FROM t WHERE a = ?"),
        Ok(StatementKind::Delete)
    );
    assert_eq!(
        check_statement("DELETE FROM t RETURNING a"),
        Ok(StatementKind::Delete)
    );
}

#[test]
fn trailing_semicolons_and_comments_are_fine() {
    assert_eq!(check_statement("DELETE FROM t;"), Ok(StatementKind::Delete));
    assert_eq!(
        check_statement("DELETE FROM t ; ;\n -- done"),
        Ok(StatementKind::Delete)
    );
}

#[test]
fn several_statements_are_refused() {
    let two = Err(Rejection::SeveralStatements { count: 2 });
    assert_eq!(
        check_statement("INSERT INTO t VALUES (1); DROP TABLE x"),
        two
    );
    assert_eq!(check_statement("DELETE FROM t; DELETE FROM u;"), two);
    assert_eq!(
        check_statement("INSERT INTO t VALUES (1);;SELECT 1;UPDATE t SET a = 2"),
        Err(Rejection::SeveralStatements { count: 3 })
    );
}

#[test]
fn empty_input_is_refused() {
    for sql in [
        "",
        "   \n\t",
        ";",
        " ; ; ",
        "-- only a comment",
        "/* block */",
    ] {
        assert_eq!(check_statement(sql), Err(Rejection::Empty), "{sql:?}");
    }
}

#[test]
fn unparsable_text_is_refused() {
    for sql in [
        "INSERT INTO",
        "hello world",
        "INSERT INTO t VALUES ('unterminated)",
        "INSERT INTO t VALUES (1); garbage here",
        "DETACH DATABASE x",
        "REINDEX",
        "VACUUM INTO '/tmp/copy.db'",
    ] {
        assert!(
            is_unparsable(sql),
            "{sql:?} gave {:?}",
            check_statement(sql)
        );
    }
}

#[test]
fn text_the_parser_leaves_behind_is_refused() {
    // sqlparser stops at `END` after a statement without an error.
    assert!(is_unparsable("INSERT INTO t VALUES (1) END; DROP TABLE x"));
    assert!(is_unparsable("DELETE FROM t END"));
}

#[test]
fn ddl_is_refused() {
    for (sql, kind) in [
        ("CREATE TABLE t (a)", "CREATE TABLE"),
        ("CREATE TEMP TABLE t (a)", "CREATE TABLE"),
        ("CREATE TABLE t AS SELECT 1", "CREATE TABLE"),
        (
            "CREATE VIRTUAL TABLE v USING fts5(a)",
            "CREATE VIRTUAL TABLE",
        ),
        ("CREATE UNIQUE INDEX i ON t (a)", "CREATE INDEX"),
        ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
        (
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM t; END",
            "CREATE TRIGGER",
        ),
        ("DROP TABLE t", "DROP TABLE"),
        ("DROP INDEX IF EXISTS i", "DROP INDEX"),
        ("DROP VIEW v", "DROP VIEW"),
        ("DROP TRIGGER tr", "DROP TRIGGER"),
        ("ALTER TABLE t ADD COLUMN b", "ALTER TABLE"),
        ("ALTER TABLE t RENAME TO u", "ALTER TABLE"),
    ] {
        assert_eq!(refused_as(sql), kind, "{sql}");
    }
}

#[test]
fn connection_and_file_statements_are_refused() {
    for (sql, kind) in [
        ("PRAGMA writable_schema = 1", "PRAGMA"),
        ("PRAGMA journal_mode = 'delete'", "PRAGMA"),
        ("PRAGMA foreign_keys", "PRAGMA"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH"),
        ("ATTACH '/tmp/x.db' AS x", "ATTACH"),
        ("VACUUM", "VACUUM"),
        ("ANALYZE", "ANALYZE"),
        ("ANALYZE t", "ANALYZE"),
    ] {
        assert_eq!(refused_as(sql), kind, "{sql}");
    }
    // Shapes sqlparser does not know are refused all the same.
    assert!(is_unparsable("PRAGMA journal_mode = wal"));
}

#[test]
fn transaction_control_is_refused() {
    for (sql, kind) in [
        ("BEGIN", "BEGIN"),
        ("BEGIN IMMEDIATE", "BEGIN"),
        ("BEGIN EXCLUSIVE TRANSACTION", "BEGIN"),
        ("COMMIT", "COMMIT"),
        ("END", "COMMIT"),
        ("ROLLBACK", "ROLLBACK"),
        ("ROLLBACK TO SAVEPOINT a", "ROLLBACK"),
        ("SAVEPOINT a", "SAVEPOINT"),
        ("RELEASE a", "RELEASE"),
        ("RELEASE SAVEPOINT a", "RELEASE"),
    ] {
        assert_eq!(refused_as(sql), kind, "{sql}");
    }
}

#[test]
fn queries_are_refused() {
    for (sql, kind) in [
        ("SELECT 1", "SELECT"),
        ("SELECT * FROM t UNION SELECT * FROM u", "SELECT"),
        ("VALUES (1), (2)", "VALUES"),
        ("EXPLAIN DELETE FROM t", "EXPLAIN"),
        ("EXPLAIN QUERY PLAN SELECT 1", "EXPLAIN"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
    ] {
        assert_eq!(refused_as(sql), kind, "{sql}");
    }
}

#[test]
fn dml_under_a_with_clause_is_the_dml_it_wraps() {
    for (sql, kind) in [
        (
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            StatementKind::Insert,
        ),
        (
            "WITH x AS (SELECT 1) DELETE FROM t WHERE a IN x",
            StatementKind::Delete,
        ),
        (
            "WITH x(a) AS (VALUES (1)) UPDATE t SET b = 2 WHERE a IN (SELECT a FROM x)",
            StatementKind::Update,
        ),
    ] {
        assert_eq!(check_statement(sql), Ok(kind), "{sql}");
    }
    assert!(matches!(
        check_statement("WITH x AS (SELECT 1) DELETE FROM sqlite_sequence"),
        Err(Rejection::SystemTable { .. })
    ));
    assert_eq!(
        check_statement(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) \
             INSERT INTO t SELECT n FROM r"
        ),
        Err(Rejection::RecursiveCte)
    );
}

#[test]
fn internal_tables_are_refused_as_targets() {
    for (sql, table) in [
        ("DELETE FROM sqlite_master", "sqlite_master"),
        ("DELETE FROM main.sqlite_master WHERE 1", "sqlite_master"),
        ("UPDATE sqlite_schema SET sql = ''", "sqlite_schema"),
        ("UPDATE \"SQLITE_SCHEMA\" SET sql = ''", "SQLITE_SCHEMA"),
        (
            "INSERT INTO temp.sqlite_temp_master VALUES (1)",
            "sqlite_temp_master",
        ),
        (
            "INSERT INTO [sqlite_sequence] VALUES ('t', 0)",
            "sqlite_sequence",
        ),
        (
            "REPLACE INTO sqlite_dbpage VALUES (1, x'00')",
            "sqlite_dbpage",
        ),
    ] {
        assert_eq!(
            check_statement(sql),
            Err(Rejection::SystemTable {
                table: table.to_owned()
            }),
            "{sql}"
        );
    }
    // Reading the schema while writing an ordinary table is not a target.
    assert_eq!(
        check_statement("INSERT INTO t SELECT name FROM sqlite_master"),
        Ok(StatementKind::Insert)
    );
    assert_eq!(
        check_statement("INSERT INTO sqlitex VALUES (1)"),
        Ok(StatementKind::Insert)
    );
}

#[test]
fn targets_other_than_one_table_are_refused() {
    assert_eq!(
        check_statement("DELETE t FROM t"),
        Err(Rejection::UnsupportedTarget)
    );
}

#[test]
fn forbidden_functions_are_refused_anywhere() {
    for (sql, name) in [
        (
            "INSERT INTO t VALUES (load_extension('/tmp/evil.so'))",
            "load_extension",
        ),
        ("INSERT INTO t SELECT readfile('/etc/passwd')", "readfile"),
        ("UPDATE t SET a = WRITEFILE('/tmp/x', a)", "WRITEFILE"),
        ("DELETE FROM t WHERE edit(a) = 1 RETURNING *", "edit"),
        ("INSERT INTO t SELECT name FROM fsdir('/')", "fsdir"),
        (
            "INSERT INTO t SELECT 1 FROM u WHERE a IN (SELECT fts3_tokenizer('x'))",
            "fts3_tokenizer",
        ),
        (
            "UPDATE t SET a = 1 WHERE b = \"load_extension\"('x')",
            "load_extension",
        ),
        (
            "INSERT INTO t VALUES (load_extension /* c */ ('x'))",
            "load_extension",
        ),
        (
            r#"INSERT INTO "t" ("a") VALUES (?) ON CONFLICT ("a") DO UPDATE SET "a" = readfile("excluded"."a")"#,
            "readfile",
        ),
    ] {
        assert_eq!(
            check_statement(sql),
            Err(Rejection::ForbiddenFunction {
                name: name.to_owned()
            }),
            "{sql}"
        );
    }
}

#[test]
fn forbidden_names_that_are_not_calls_pass() {
    for sql in [
        "INSERT INTO t VALUES ('load_extension(1)')",
        "INSERT INTO t VALUES (1) -- readfile('x')",
        "INSERT INTO edit (a) VALUES (1)",
        "INSERT INTO main.edit (a) VALUES (1)",
        "INSERT INTO t (edit, readfile) VALUES (1, 2)",
        "UPDATE t SET edit = 1 WHERE readfile = 2",
    ] {
        assert!(
            check_statement(sql).is_ok(),
            "{sql:?} gave {:?}",
            check_statement(sql)
        );
    }
}

#[test]
fn nesting_is_bounded_by_the_recursion_limit() {
    let nested = |depth: usize| {
        format!(
            "INSERT INTO t VALUES ({}1{})",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    assert_eq!(check_statement(&nested(10)), Ok(StatementKind::Insert));
    // Within the nesting bound, the parser's own recursion limit still applies.
    let verdict = super::on_small_stack(move || check_statement(&nested(90)));
    match verdict {
        Err(Rejection::Unparsable { reason }) => assert!(reason.contains("recursion limit")),
        other => panic!("expected the recursion limit to refuse, got {other:?}"),
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let refused = super::on_small_stack(|| {
        let parens = "(".repeat(100_000);
        [
            check_statement(&parens),
            check_statement(&format!("INSERT INTO t VALUES ({parens}")),
            check_statement(&format!("INSERT INTO t SELECT * FROM {parens}")),
            check_statement(&format!("UPDATE t SET a = {}1", "-".repeat(100_000))),
            check_statement(&format!("DELETE FROM t WHERE {}1", "NOT ".repeat(100_000))),
            check_statement(&format!(
                "INSERT INTO t VALUES ({}1)",
                "CASE WHEN 1 THEN ".repeat(10_000)
            )),
        ]
    });
    for verdict in refused {
        assert!(verdict.is_err(), "{verdict:?}");
    }
}

#[test]
fn refusals_explain_themselves() {
    let refusal = Rejection::NotDataChanging {
        kind: "PRAGMA".into(),
    };
    assert!(
        refusal
            .to_string()
            .starts_with("PRAGMA statements may not be forwarded")
    );
    assert_eq!(StatementKind::Replace.to_string(), "REPLACE");
}

proptest! {
    #[test]
    fn any_text_gets_an_answer(sql in ".{0,200}") {
        let _ = check_statement(&sql);
    }

    #[test]
    fn any_text_after_an_insert_prefix_gets_an_answer(rest in ".{0,200}") {
        let _ = check_statement(&format!("INSERT INTO t VALUES({rest}"));
    }

    #[test]
    fn sql_like_text_gets_an_answer(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("("), Just(")"), Just(";"), Just("'"), Just("\""), Just("--"),
                Just("/*"), Just("*/"), Just("INSERT"), Just("INTO"), Just("t"),
                Just("VALUES"), Just("SELECT"), Just("END"), Just("CASE"), Just("WHEN"),
                Just("-"), Just("NOT"), Just(","), Just("?"), Just("1"), Just(" "),
            ],
            0..200,
        )
    ) {
        let _ = check_statement(&parts.concat());
    }
}
