//! The bounds checked on the raw text before it is tokenized: length, an upper bound of the
//! token count, parenthesis nesting and expression depth.
//!
//! Both passes read the text byte by byte and allocate nothing.
//!
//! The token count is an upper bound whatever the tokenizer decides about strings and
//! comments: every run of word characters counts as one token (two if it starts with a
//! digit: a number, then a word glued to it) and every other byte as one, inside literals
//! and comments too. A statement that passes cannot make the tokenizer store more tokens
//! than the limit, so memory is bounded before anything is allocated.
//!
//! The shape pass follows the quoting rules of `sqlparser`'s SQLite tokenizer (`'...'`
//! strings, `X'...'` blobs with `\` escapes, `"..."`, `` `...` `` and `[...]` identifiers
//! with doubled closing quotes, `--` and unnested `/* */` comments) and feeds the
//! [`Meter`] the parentheses, separators and operators outside them. It refuses deep
//! input early; the same meter runs again on the real tokens before parsing
//! ([`super::tokens`]), which is what the parser's safety rests on.

use super::Rejection;
use super::meter::{Event, Meter};
use super::policy::AllowlistPolicy;

/// Keywords that `sqlparser` parses as infix or postfix operators, in upper case.
const OPERATOR_KEYWORDS: &[&str] = &[
    "AND", "OR", "NOT", "IS", "IN", "LIKE", "BETWEEN", "COLLATE", "ESCAPE", "ISNULL", "NOTNULL",
    "ILIKE", "RLIKE", "SIMILAR", "DIV", "XOR", "OVERLAPS", "AT", "OPERATOR", "MEMBER", "SOUNDS",
];

/// Operator keywords for which `sqlparser` copies the expression on their left.
const COPYING_OPERATOR_KEYWORDS: &[&str] = &["GLOB", "MATCH", "REGEXP"];

/// What an unquoted word means to the [`Meter`]: an operator keyword or nothing.
pub(super) fn word_event(word: &[u8]) -> Option<Event> {
    let is = |list: &[&str]| list.iter().any(|k| k.as_bytes().eq_ignore_ascii_case(word));
    if is(OPERATOR_KEYWORDS) {
        Some(Event::Operator)
    } else if is(COPYING_OPERATOR_KEYWORDS) {
        Some(Event::CopyingOperator)
    } else {
        None
    }
}

/// Operators of more than one character that the SQLite tokenizer reads as one token,
/// longest first; any other punctuation character is an operator of its own.
const LONG_OPERATORS: &[&[u8]] = &[
    b"||/", b"->>", b"#>>", b"<=>", b"|/", b"||", b"#-", b"#>", b"&&", b"->", b"<<", b"<=", b"<>",
    b"<@", b">=", b">>", b"~*", b"!=", b"!!", b"!~", b"==", b"=>", b"::", b":=", b"@>", b"@?",
    b"@@", b"^@",
];

/// Checks `sql` against `policy`'s bounds without tokenizing it.
pub(super) fn prescan(sql: &str, policy: &AllowlistPolicy) -> Result<(), Rejection> {
    if sql.len() > policy.sql_len_limit() {
        return Err(Rejection::TooLong {
            limit: policy.sql_len_limit(),
        });
    }
    if token_bound(sql.as_bytes(), policy.token_limit()) > policy.token_limit() {
        return Err(Rejection::TooManyTokens {
            limit: policy.token_limit(),
        });
    }
    check_shape(sql, policy)?;
    // SQLite stops reading at a NUL, where the parser here reads on (inside a comment, say):
    // what was checked would not be what runs. sqlx's prepare loop also never ends on one.
    if sql.as_bytes().contains(&0) {
        return Err(Rejection::unparsable(
            "the statement contains a NUL byte (SQLite would stop reading there)",
        ));
    }
    Ok(())
}

/// An upper bound of the tokens in `bytes`, counted up to just past `limit`.
fn token_bound(bytes: &[u8], limit: usize) -> usize {
    let mut tokens = 0usize;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if tokens > limit {
            break;
        }
        let run = bytes
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
            .count();
        if run == 0 {
            tokens += 1;
            at += 1;
        } else {
            tokens += if byte.is_ascii_digit() { 2 } else { 1 };
            at += run;
        }
    }
    tokens
}

/// Feeds the [`Meter`] the statement's shape outside strings, quoted names and comments.
fn check_shape(sql: &str, policy: &AllowlistPolicy) -> Result<(), Rejection> {
    let bytes = sql.as_bytes();
    let mut meter = Meter::new(policy);
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        let (len, event) = match byte {
            // `X'...'`, a blob: the tokenizer reads `\` as an escape in it.
            b'x' | b'X' if next == Some(b'\'') => (1 + quoted(bytes, at + 1, b'\'', true), None),
            b'\'' | b'"' | b'`' => (quoted(bytes, at, byte, false), None),
            b'[' => (quoted(bytes, at, b']', false), None),
            b'-' if next == Some(b'-') => (line_comment(bytes, at), None),
            b'/' if next == Some(b'*') => (block_comment(bytes, at), None),
            b'(' => (1, Some(Event::Open)),
            b')' => (1, Some(Event::Close)),
            b',' | b';' => (1, Some(Event::Separator)),
            b'$' => (1 + placeholder_name(sql, at + 1, '$'), None),
            b'?' => (1 + placeholder_name(sql, at + 1, '?'), None),
            b'.' => (1, None),
            b':' | b'@' if next.is_some_and(is_word_byte) => (1, None),
            b'0'..=b'9' => (number(bytes, at), None),
            b if is_word_byte(b) => {
                let len = word(bytes, at);
                (len, word_event(bytes.get(at..at + len).unwrap_or_default()))
            }
            b if b.is_ascii_punctuation() => (operator(bytes, at), Some(Event::Operator)),
            _ => (1, None),
        };
        if let Some(event) = event {
            meter.note(event)?;
        }
        at += len;
    }
    Ok(())
}

/// Whether a byte continues a word: ASCII letters, digits, `_`, `$`, and every byte of a
/// non-ASCII character (the SQLite dialect takes any character from U+0080 on as a letter).
/// A word starts with any of them but a digit (a number) or `$` (a placeholder).
fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

/// The length of the number starting at `at`, read as the tokenizer reads one: digits,
/// then `x` and hex digits after a lone `0`, or a fraction and an exponent. What follows
/// it (`1abc`) is a token of its own.
fn number(bytes: &[u8], at: usize) -> usize {
    let digits = |from: usize| {
        bytes
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'_')
            .count()
    };
    let mut end = at + digits(at);
    if end == at + 1 && bytes.get(at) == Some(&b'0') && bytes.get(end) == Some(&b'x') {
        let hex = bytes.get(end + 1..).unwrap_or_default();
        return end + 1 + hex.iter().take_while(|b| b.is_ascii_hexdigit()).count() - at;
    }
    if bytes.get(end) == Some(&b'.') {
        end += 1 + digits(end + 1);
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if bytes
            .get(end + 1 + sign)
            .is_some_and(|b| b.is_ascii_digit() || *b == b'_')
        {
            end += 1 + sign + digits(end + 1 + sign);
        }
    }
    end - at
}

/// The length of a placeholder's name starting at `at`, after its `sigil`: numeric
/// characters after `?`; alphanumeric characters, `_` and `$` after `$`.
fn placeholder_name(sql: &str, at: usize, sigil: char) -> usize {
    let part = |c: &char| match sigil {
        '?' => c.is_numeric(),
        _ => c.is_alphanumeric() || *c == '_' || *c == '$',
    };
    sql.get(at..)
        .unwrap_or_default()
        .chars()
        .take_while(part)
        .map(char::len_utf8)
        .sum()
}

/// The length of the word starting at `at`.
fn word(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| is_word_byte(b))
        .count()
        .max(1)
}

/// The length of the quoted text starting at `at` (its opening quote) and closed by
/// `close`, where a doubled `close` stays inside, and so does any character after a `\`
/// if `backslash` escapes. Unterminated text runs to the end (the tokenizer refuses it).
fn quoted(bytes: &[u8], at: usize, close: u8, backslash: bool) -> usize {
    let mut end = at + 1;
    while let Some(&byte) = bytes.get(end) {
        end += 1;
        if backslash && byte == b'\\' {
            end += 1;
        } else if byte == close {
            if bytes.get(end) != Some(&close) {
                return end - at;
            }
            end += 1;
        }
    }
    bytes.len() - at
}

/// The length of the `--` comment starting at `at`, up to (not including) the newline.
fn line_comment(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.get(at..).unwrap_or_default();
    find_byte(rest, b'\n').unwrap_or(rest.len())
}

/// The length of the `/*` comment starting at `at`, through its `*/` or to the end.
fn block_comment(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.get(at + 2..).unwrap_or_default();
    match rest.windows(2).position(|pair| pair == b"*/") {
        Some(offset) => offset + 4,
        None => rest.len() + 2,
    }
}

/// The length of the operator starting at `at`: the longest of [`LONG_OPERATORS`] that
/// matches, or one character.
fn operator(bytes: &[u8], at: usize) -> usize {
    let rest = bytes.get(at..).unwrap_or_default();
    LONG_OPERATORS
        .iter()
        .find(|op| rest.starts_with(op))
        .map_or(1, |op| op.len())
}

/// The offset of the first `byte` in `haystack`.
fn find_byte(haystack: &[u8], byte: u8) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}
