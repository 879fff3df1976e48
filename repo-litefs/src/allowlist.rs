//! What a statement forwarded from a replica may be: one INSERT, REPLACE, UPDATE or DELETE.
//!
//! The primary runs forwarded SQL on behalf of another node, so it checks every statement
//! with [`check_statement`] before executing it. The rule is "a single data-changing
//! statement": the forwarding path exists to carry a replica's writes to rows, never to
//! change the schema, the connection or the database file.
//!
//! The text is parsed with `sqlparser`'s [`SQLiteDialect`] and refused unless:
//!
//! - it holds exactly one statement (a trailing `;` is fine, `INSERT ...; DROP TABLE x` is
//!   not), and the parser consumed all of it: `sqlparser` stops quietly at a stray `END`
//!   after a statement, which SQLite would not, so leftover tokens are refused;
//! - that statement is an `INSERT` (any `OR ...` conflict clause, `ON CONFLICT ... DO
//!   UPDATE/NOTHING`, `DEFAULT VALUES`, `RETURNING`), a `REPLACE`, an `UPDATE` (`OR ...`,
//!   `FROM`, `RETURNING`) or a `DELETE` (`RETURNING`). DDL, `PRAGMA`, `ATTACH`, `VACUUM`,
//!   `ANALYZE`, transaction control, queries and `EXPLAIN` are refused. A statement that
//!   starts with a common table expression (`WITH ... INSERT`) is refused too, for
//!   simplicity: the ORM does not generate it;
//! - the table it writes is a plain table name outside SQLite's reserved `sqlite_`
//!   namespace (`sqlite_schema`, `sqlite_master`, `sqlite_temp_master`, `sqlite_sequence`,
//!   `sqlite_stat1`, `sqlite_dbpage`, ...). Writing those rewrites the schema or the pages
//!   under it, which is exactly what forwarding must not be able to do even if a pragma
//!   such as `writable_schema` were left on;
//! - it calls none of the functions that reach outside the database: `load_extension`
//!   (loads native code), `readfile`, `writefile`, `edit`, `fsdir`, `lsdir`, `zipfile`
//!   (the shell's file-system helpers, present when an extension provides them) and
//!   `fts3_tokenizer` (whose pointer argument has been used to run arbitrary code). A
//!   forwarded statement comes from the network; it must not touch the file system or the
//!   process. The check runs on the token stream, so names inside string literals or
//!   comments are ignored, quoted names (`"edit"(...)`) are caught, and a name written as a
//!   table (`INSERT INTO edit (a) ...`) is not mistaken for a call.
//!
//! Parsing is bounded: the parser's recursion limit ([`RECURSION_LIMIT`]) turns deeply
//! nested input into a refusal instead of a stack overflow, and nothing here panics.
//! Statements `sqlparser` cannot parse (for example `PRAGMA journal_mode = wal`, `DETACH`,
//! `REINDEX`, `VACUUM INTO`) are refused as [`Refusal::Unparsable`].

use std::fmt;

use sqlparser::ast::{
    FromTable, ObjectName, ObjectNamePart, Query, SetExpr, Statement, TableFactor, TableObject,
    TableWithJoins,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// How deeply the parser may nest before it refuses the statement.
///
/// The ORM's statements nest a few levels; this is `sqlparser`'s own default, set here
/// explicitly because it is what keeps hostile input such as `((((...` off the stack.
pub const RECURSION_LIMIT: usize = 50;

/// Functions a forwarded statement may not call, in lower case.
const FORBIDDEN_FUNCTIONS: &[&str] = &[
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fsdir",
    "lsdir",
    "zipfile",
    "fts3_tokenizer",
];

/// The kind of a statement that passed [`check_statement`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    /// `INSERT`, with or without an `OR ...` or `ON CONFLICT` clause.
    Insert,
    /// `REPLACE INTO ...` (SQLite's alias of `INSERT OR REPLACE`).
    Replace,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl StatementKind {
    /// The statement's leading keyword, for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "INSERT",
            Self::Replace => "REPLACE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The text is not SQL that the SQLite dialect of `sqlparser` understands.
    #[error("statement could not be parsed: {reason}")]
    Unparsable {
        /// The parser's explanation.
        reason: String,
    },
    /// The text holds no statement (only whitespace, comments or semicolons).
    #[error("no statement was given")]
    Empty,
    /// The text holds more than one statement.
    #[error("only one statement may be forwarded, got {count}")]
    SeveralStatements {
        /// How many statements were parsed.
        count: usize,
    },
    /// The statement does not (only) change rows.
    #[error("{kind} statements may not be forwarded; only INSERT, REPLACE, UPDATE and DELETE")]
    NotDataChanging {
        /// The statement's leading keywords, such as `CREATE TABLE`, `PRAGMA` or `SELECT`.
        kind: String,
    },
    /// The statement writes something other than one plainly named table.
    #[error("the statement's target is not a single named table")]
    UnsupportedTarget,
    /// The statement writes one of SQLite's internal `sqlite_` tables.
    #[error("the internal table {table} may not be written")]
    SystemTable {
        /// The table's name as written.
        table: String,
    },
    /// The statement calls a function that reaches outside the database.
    #[error("the function {name} may not be called")]
    ForbiddenFunction {
        /// The function's name as written.
        name: String,
    },
}

/// Checks that `sql` is a single data-changing statement that may be forwarded.
///
/// Returns what kind of statement it is, or why it was refused. Never panics.
///
/// ```
/// use repo_litefs::allowlist::{Refusal, StatementKind, check_statement};
///
/// let kind = check_statement(r#"DELETE FROM "tags" WHERE "tags"."name" <> ? RETURNING *"#);
/// assert_eq!(kind, Ok(StatementKind::Delete));
///
/// let refused = check_statement("PRAGMA writable_schema = 1");
/// assert_eq!(refused, Err(Refusal::NotDataChanging { kind: "PRAGMA".into() }));
/// ```
pub fn check_statement(sql: &str) -> Result<StatementKind, Refusal> {
    let dialect = SQLiteDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Refusal::Unparsable {
            reason: e.to_string(),
        })?;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(RECURSION_LIMIT)
        .with_tokens_with_locations(tokens.clone());
    let statements = parser.parse_statements().map_err(|e| Refusal::Unparsable {
        reason: e.to_string(),
    })?;
    let leftover = parser.peek_token();
    if leftover.token != Token::EOF {
        return Err(Refusal::Unparsable {
            reason: format!("unexpected {} after the statement", leftover.token),
        });
    }
    let statement = match statements.as_slice() {
        [] => return Err(Refusal::Empty),
        [statement] => statement,
        several => {
            return Err(Refusal::SeveralStatements {
                count: several.len(),
            });
        }
    };
    let kind = data_changing_kind(statement, &tokens)?;
    for table in target_tables(statement)? {
        check_target(table)?;
    }
    check_function_calls(&tokens)?;
    Ok(kind)
}

/// The kind of an allowed statement, or `NotDataChanging` naming what it is instead.
fn data_changing_kind(
    statement: &Statement,
    tokens: &[TokenWithSpan],
) -> Result<StatementKind, Refusal> {
    // Only INSERT (REPLACE), UPDATE and DELETE pass; the other arms merely name the refusal.
    let kind = match statement {
        Statement::Insert(_) if leading_keyword(tokens) == Some(Keyword::REPLACE) => {
            return Ok(StatementKind::Replace);
        }
        Statement::Insert(_) => return Ok(StatementKind::Insert),
        Statement::Update(_) => return Ok(StatementKind::Update),
        Statement::Delete(_) => return Ok(StatementKind::Delete),
        Statement::Query(query) => query_kind(query).to_owned(),
        Statement::CreateTable(_) => "CREATE TABLE".to_owned(),
        Statement::CreateVirtualTable { .. } => "CREATE VIRTUAL TABLE".to_owned(),
        Statement::CreateIndex(_) => "CREATE INDEX".to_owned(),
        Statement::CreateView(_) => "CREATE VIEW".to_owned(),
        Statement::CreateTrigger(_) => "CREATE TRIGGER".to_owned(),
        Statement::Drop { object_type, .. } => format!("DROP {object_type}"),
        Statement::DropTrigger(_) => "DROP TRIGGER".to_owned(),
        Statement::AlterTable(_) => "ALTER TABLE".to_owned(),
        Statement::Pragma { .. } => "PRAGMA".to_owned(),
        Statement::AttachDatabase { .. } => "ATTACH".to_owned(),
        Statement::Vacuum(_) => "VACUUM".to_owned(),
        Statement::Analyze(_) => "ANALYZE".to_owned(),
        Statement::Explain { .. } | Statement::ExplainTable { .. } => "EXPLAIN".to_owned(),
        Statement::StartTransaction { .. } => "BEGIN".to_owned(),
        Statement::Commit { .. } => "COMMIT".to_owned(),
        Statement::Rollback { .. } => "ROLLBACK".to_owned(),
        Statement::Savepoint { .. } => "SAVEPOINT".to_owned(),
        Statement::ReleaseSavepoint { .. } => "RELEASE".to_owned(),
        other => other
            .to_string()
            .split_whitespace()
            .next()
            .unwrap_or("unknown")
            .to_ascii_uppercase(),
    };
    Err(Refusal::NotDataChanging { kind })
}

/// Names a statement that `sqlparser` files as a query.
fn query_kind(query: &Query) -> &'static str {
    if query.with.is_some() {
        return "WITH";
    }
    match query.body.as_ref() {
        SetExpr::Values(_) => "VALUES",
        _ => "SELECT",
    }
}

/// The first keyword of the text, skipping whitespace and comments.
fn leading_keyword(tokens: &[TokenWithSpan]) -> Option<Keyword> {
    match tokens.iter().map(|t| &t.token).find(|t| !is_whitespace(t)) {
        Some(Token::Word(word)) => Some(word.keyword),
        _ => None,
    }
}

/// The tables an allowed statement writes.
fn target_tables(statement: &Statement) -> Result<Vec<&ObjectName>, Refusal> {
    match statement {
        Statement::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => Ok(vec![name]),
            TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                Err(Refusal::UnsupportedTarget)
            }
        },
        Statement::Update(update) => Ok(vec![plain_table(&update.table)?]),
        Statement::Delete(delete) => {
            // `DELETE t1, t2 FROM ...` (MySQL) names its targets before FROM.
            if !delete.tables.is_empty() || delete.using.is_some() {
                return Err(Refusal::UnsupportedTarget);
            }
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            match from.as_slice() {
                [table] => Ok(vec![plain_table(table)?]),
                _ => Err(Refusal::UnsupportedTarget),
            }
        }
        _ => Err(Refusal::UnsupportedTarget),
    }
}

/// The name of a table reference that is a bare table without joins.
fn plain_table(table: &TableWithJoins) -> Result<&ObjectName, Refusal> {
    match &table.relation {
        TableFactor::Table {
            name, args: None, ..
        } if table.joins.is_empty() => Ok(name),
        _ => Err(Refusal::UnsupportedTarget),
    }
}

/// Refuses a target in SQLite's reserved `sqlite_` namespace, in any schema.
fn check_target(name: &ObjectName) -> Result<(), Refusal> {
    let Some(ObjectNamePart::Identifier(table)) = name.0.last() else {
        return Err(Refusal::UnsupportedTarget);
    };
    let reserved = table
        .value
        .get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"));
    if reserved {
        return Err(Refusal::SystemTable {
            table: table.value.clone(),
        });
    }
    Ok(())
}

/// Refuses a call of a [`FORBIDDEN_FUNCTIONS`] member anywhere in the statement.
///
/// A call is a name followed by `(`. The name is not a call when it follows `.` (SQLite
/// has no qualified function names, so that is `schema.table (columns)`), `INTO` (the
/// insert target and its column list) or `AS` (an alias or a type name).
fn check_function_calls(tokens: &[TokenWithSpan]) -> Result<(), Refusal> {
    let significant: Vec<&Token> = tokens
        .iter()
        .map(|t| &t.token)
        .filter(|t| !is_whitespace(t))
        .collect();
    for (i, token) in significant.iter().enumerate() {
        let Token::Word(word) = token else { continue };
        let forbidden = FORBIDDEN_FUNCTIONS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&word.value));
        if !forbidden || significant.get(i + 1) != Some(&&Token::LParen) {
            continue;
        }
        let not_a_call = i.checked_sub(1).and_then(|p| significant.get(p)).is_some_and(|prev| {
            matches!(prev, Token::Period)
                || matches!(prev, Token::Word(w) if matches!(w.keyword, Keyword::INTO | Keyword::AS))
        });
        if !not_a_call {
            return Err(Refusal::ForbiddenFunction {
                name: word.value.clone(),
            });
        }
    }
    Ok(())
}

/// Whether a token is whitespace or a comment.
fn is_whitespace(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn refused_as(sql: &str) -> String {
        match check_statement(sql) {
            Err(Refusal::NotDataChanging { kind }) => kind,
            other => panic!("{sql:?} gave {other:?}, expected NotDataChanging"),
        }
    }

    fn is_unparsable(sql: &str) -> bool {
        matches!(check_statement(sql), Err(Refusal::Unparsable { .. }))
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
        let two = Err(Refusal::SeveralStatements { count: 2 });
        assert_eq!(
            check_statement("INSERT INTO t VALUES (1); DROP TABLE x"),
            two
        );
        assert_eq!(check_statement("DELETE FROM t; DELETE FROM u;"), two);
        assert_eq!(
            check_statement("INSERT INTO t VALUES (1);;SELECT 1;UPDATE t SET a = 2"),
            Err(Refusal::SeveralStatements { count: 3 })
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
            assert_eq!(check_statement(sql), Err(Refusal::Empty), "{sql:?}");
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
            ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "WITH"),
            ("WITH x AS (SELECT 1) DELETE FROM t WHERE a IN x", "WITH"),
        ] {
            assert_eq!(refused_as(sql), kind, "{sql}");
        }
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
                Err(Refusal::SystemTable {
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
            Err(Refusal::UnsupportedTarget)
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
                Err(Refusal::ForbiddenFunction {
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
        match check_statement(&nested(1_000)) {
            Err(Refusal::Unparsable { reason }) => assert!(reason.contains("recursion limit")),
            other => panic!("expected the recursion limit to refuse, got {other:?}"),
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let parens = "(".repeat(100_000);
        assert!(is_unparsable(&parens));
        assert!(is_unparsable(&format!("INSERT INTO t VALUES ({parens}")));
        assert!(is_unparsable(&format!(
            "INSERT INTO t SELECT * FROM {parens}"
        )));
        assert!(is_unparsable(&format!(
            "UPDATE t SET a = {}1",
            "-".repeat(100_000)
        )));
        assert!(is_unparsable(&format!(
            "DELETE FROM t WHERE {}1",
            "NOT ".repeat(100_000)
        )));
        assert!(is_unparsable(&format!(
            "INSERT INTO t VALUES ({}1)",
            "CASE WHEN 1 THEN ".repeat(10_000)
        )));
    }

    #[test]
    fn refusals_explain_themselves() {
        let refusal = Refusal::NotDataChanging {
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
}
