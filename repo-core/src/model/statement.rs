//! Classifying SQL statements: is it a read, and which table does a write touch?
//!
//! This is a fast keyword scan for routing, not a validator: anything that is not clearly
//! a read is treated as a write, so a misclassification sends a read through the write
//! path (safe) rather than a write to the local database (wrong on a replica). The
//! forwarding server validates forwarded statements with a real SQL parser.

use crate::request::Action;

/// How a statement is routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// Runs on the local database.
    Read,
    /// Goes through the middleware stack.
    Write(WriteTarget),
}

/// What a write is about, as far as routing and telemetry need: `INSERT INTO "posts" …` is
/// an [`Action::Insert`] on `posts`. A write that is not a plain `INSERT`, `REPLACE`,
/// `UPDATE` or `DELETE` (a CTE, DDL, several statements) is [`Action::Execute`] on no table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTarget {
    /// The action the statement performs.
    pub action: Action,
    /// The table it writes, unquoted; empty when unknown.
    pub table: String,
}

impl WriteTarget {
    fn unknown() -> Self {
        Self {
            action: Action::Execute,
            table: String::new(),
        }
    }
}

/// Classifies `sql` as a read or a write, and a write by its action and table: the one
/// classification of a statement, one scan of its words (plus one of its text for a second
/// statement).
pub fn classify(sql: &str) -> StatementKind {
    // Several statements: whatever the first is, treat the whole as a write.
    if has_second_statement(sql) {
        return StatementKind::Write(WriteTarget::unknown());
    }
    let mut words = Words::new(sql);
    let first = words.next().map(|w| w.to_ascii_uppercase());
    let action = match first.as_deref() {
        Some("SELECT" | "VALUES" | "EXPLAIN") => return StatementKind::Read,
        Some("WITH") if !words.any(|w| is_write_keyword(&w)) => return StatementKind::Read,
        Some("PRAGMA") if is_read_only_pragma(words.next().as_deref(), sql) => {
            return StatementKind::Read;
        }
        Some("INSERT" | "REPLACE") => Action::Insert,
        Some("UPDATE") => Action::Update,
        Some("DELETE") => Action::Delete,
        _ => return StatementKind::Write(WriteTarget::unknown()),
    };
    // Skip `OR <conflict>`, `INTO`, `FROM` to reach the table name.
    let table = words
        .find(|w| {
            !matches!(
                w.to_ascii_uppercase().as_str(),
                "OR" | "ROLLBACK" | "ABORT" | "REPLACE" | "FAIL" | "IGNORE" | "INTO" | "FROM"
            )
        })
        .unwrap_or_default();
    StatementKind::Write(WriteTarget { action, table })
}

/// Pragmas that only report, called without an argument that would set something.
fn is_read_only_pragma(name: Option<&str>, sql: &str) -> bool {
    let Some(name) = name else { return false };
    let reporting = matches!(
        name.to_ascii_lowercase().as_str(),
        "table_info"
            | "table_xinfo"
            | "index_list"
            | "index_info"
            | "index_xinfo"
            | "foreign_key_list"
            | "database_list"
            | "collation_list"
            | "function_list"
            | "compile_options"
            | "data_version"
            | "page_count"
            | "page_size"
            | "freelist_count"
            | "schema_version"
            | "user_version"
            | "journal_mode"
            | "foreign_keys"
            | "table_list"
    );
    // `PRAGMA user_version = 5` or `PRAGMA journal_mode(DELETE)` set; reading ones that take
    // an argument name a table (`table_info(posts)`).
    let sets = sql.contains('=')
        || (matches!(
            name.to_ascii_lowercase().as_str(),
            "user_version" | "journal_mode" | "foreign_keys" | "schema_version" | "page_size"
        ) && sql.contains('('));
    reporting && !sets
}

/// Whether `sql` holds a second statement after a `;` (outside quotes and comments).
fn has_second_statement(sql: &str) -> bool {
    let mut rest = sql;
    while let Some(i) = rest.find([';', '\'', '"', '`', '[', '-', '/']) {
        let c = rest[i..].chars().next().unwrap_or(';');
        let after = &rest[i..];
        rest = match c {
            ';' => return Words::new(&after[1..]).next().is_some(),
            '\'' | '"' | '`' => skip_quoted(after, c).1,
            '[' => skip_quoted(after, ']').1,
            '-' if after.starts_with("--") => after.find('\n').map_or("", |j| &after[j..]),
            '/' if after.starts_with("/*") => after.find("*/").map_or("", |j| &after[j + 2..]),
            _ => &after[1..],
        };
    }
    false
}

fn is_write_keyword(word: &str) -> bool {
    matches!(
        word.to_ascii_uppercase().as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE"
    )
}

/// The table a query reads first: the word after its first `FROM` (unquoted), when the
/// statement is a read. Used to type a read's columns by a registered entity's shape.
pub(crate) fn read_table(sql: &str) -> Option<String> {
    let mut words = Words::new(sql);
    words.find(|w| w.eq_ignore_ascii_case("FROM"))?;
    words.next()
}

/// Bare words and identifiers of a statement, skipping comments, string literals and
/// punctuation; quoted identifiers come back without their quotes.
struct Words<'a> {
    rest: &'a str,
}

impl<'a> Words<'a> {
    fn new(sql: &'a str) -> Self {
        Self { rest: sql }
    }
}

impl Iterator for Words<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            let s = self.rest.trim_start();
            let mut chars = s.chars();
            let c = chars.next()?;
            if s.starts_with("--") {
                self.rest = s.find('\n').map_or("", |i| &s[i..]);
            } else if s.starts_with("/*") {
                self.rest = s.find("*/").map_or("", |i| &s[i + 2..]);
            } else if c == '\'' {
                self.rest = skip_quoted(s, '\'').1;
            } else if matches!(c, '"' | '`' | '[') {
                let close = if c == '[' { ']' } else { c };
                let (inner, rest) = skip_quoted(s, close);
                self.rest = rest;
                return Some(inner.to_owned());
            } else if c.is_alphanumeric() || c == '_' {
                let end = s
                    .find(|ch: char| !(ch.is_alphanumeric() || ch == '_'))
                    .unwrap_or(s.len());
                self.rest = &s[end..];
                return Some(s[..end].to_owned());
            } else {
                self.rest = &s[c.len_utf8()..];
            }
        }
    }
}

/// Splits `s` (starting with an opening quote) into the quoted text and what follows the
/// closing quote. A doubled closing quote is part of the text.
fn skip_quoted(s: &str, close: char) -> (&str, &str) {
    let body = &s[1..];
    let mut i = 0;
    let bytes = body.as_bytes();
    while let Some(pos) = body[i..].find(close) {
        let at = i + pos;
        let next = at + close.len_utf8();
        if close != ']' && bytes.get(next) == Some(&(close as u8)) {
            i = next + 1;
            continue;
        }
        return (&body[..at], &body[next..]);
    }
    (body, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_reads() {
        for sql in [
            "SELECT * FROM posts",
            "  -- comment\n select 1",
            "/* x */ SELECT 'INSERT'",
            "WITH t AS (SELECT 1) SELECT * FROM t",
            "PRAGMA table_info(posts)",
            "PRAGMA user_version",
            "SELECT 1;",
            "SELECT ';' AS x",
            "SELECT 1; -- trailing comment",
            "EXPLAIN QUERY PLAN SELECT 1",
        ] {
            assert_eq!(classify(sql), StatementKind::Read, "{sql}");
        }
    }

    #[test]
    fn writes_and_unknowns_are_writes() {
        for sql in [
            "INSERT INTO posts VALUES (1)",
            "update posts set x = 1",
            "DELETE FROM posts",
            "REPLACE INTO posts VALUES (1)",
            "WITH t AS (SELECT 1) INSERT INTO posts SELECT * FROM t",
            "CREATE TABLE x (id INTEGER)",
            "PRAGMA foreign_keys = ON",
            "PRAGMA user_version(5)",
            "PRAGMA journal_mode(DELETE)",
            "PRAGMA incremental_vacuum(10)",
            "PRAGMA wal_checkpoint(TRUNCATE)",
            "SELECT 1; DELETE FROM t",
            "VACUUM",
            "",
        ] {
            assert!(matches!(classify(sql), StatementKind::Write(_)), "{sql}");
        }
    }

    #[test]
    fn describes_action_and_table() {
        let write = |sql| match classify(sql) {
            StatementKind::Write(target) => (target.action, target.table),
            StatementKind::Read => panic!("{sql} is a write"),
        };
        assert_eq!(
            write(r#"INSERT INTO "posts" ("a") VALUES (?)"#),
            (Action::Insert, "posts".into())
        );
        assert_eq!(
            write("INSERT OR IGNORE INTO tags VALUES (1)"),
            (Action::Insert, "tags".into())
        );
        assert_eq!(
            write(r#"UPDATE "po""sts" SET a = 1"#),
            (Action::Update, r#"po""sts"#.into())
        );
        assert_eq!(
            write("DELETE FROM `comments` WHERE id = 1"),
            (Action::Delete, "comments".into())
        );
        assert_eq!(
            write("CREATE TABLE x (id INTEGER)"),
            (Action::Execute, String::new())
        );
        assert_eq!(
            write("WITH t AS (SELECT 1) INSERT INTO posts SELECT * FROM t"),
            (Action::Execute, String::new())
        );
    }
}
