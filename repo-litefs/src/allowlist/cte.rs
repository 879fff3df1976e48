//! Recursive common table expressions, found on the token stream wherever they are.
//!
//! SQLite runs a CTE recursively when its body refers to its own name, with or without the
//! `RECURSIVE` keyword, and such a CTE can loop forever (`WITH c(n) AS (SELECT 1 UNION ALL
//! SELECT n+1 FROM c) ...`). Every CTE starts with a `WITH`, so every `WITH` in the
//! statement is read, at any depth (the insert's source, sub-queries, nested CTEs): the
//! clause is recursive if it says `RECURSIVE`, or if a name it defines appears again
//! between the start of its clause and the end of its own body (its own body, an
//! enclosing CTE's body, or an earlier CTE's forward reference to it). This errs towards
//! refusing: a column that shares its CTE's name counts too, and so does a `WITH` whose
//! shape cannot be read.

use std::ops::RangeInclusive;

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::tokens::is_whitespace;

/// The most CTEs a statement may define before it is treated as recursive; keeps the
/// name search linear in the statement's length. The ORM writes none.
const MAX_CTES: usize = 64;

/// One CTE found in the token stream.
struct Cte<'a> {
    /// Its name as written.
    name: &'a str,
    /// The index of the name's token at its definition.
    defined_at: usize,
    /// From the first CTE of its clause to the end of its own body: where a mention of its
    /// name makes it recursive.
    scope: RangeInclusive<usize>,
}

/// Whether the statement holds a recursive CTE, or a `WITH` clause too odd to tell.
pub(super) fn has_recursive_cte(tokens: &[TokenWithSpan]) -> bool {
    let mut ctes = Vec::new();
    for (at, token) in tokens.iter().enumerate() {
        if is_keyword(&token.token, Keyword::WITH)
            && (read_clause(tokens, at, &mut ctes).is_none() || ctes.len() > MAX_CTES)
        {
            return true;
        }
    }
    tokens.iter().enumerate().any(|(at, token)| {
        let Token::Word(word) = &token.token else {
            return false;
        };
        ctes.iter().any(|cte| {
            at != cte.defined_at
                && cte.scope.contains(&at)
                && cte.name.eq_ignore_ascii_case(&word.value)
        })
    })
}

/// Reads the CTEs of the `WITH` at `with` into `ctes`; `None` if the clause says
/// `RECURSIVE` or does not have the shape `name [(columns)] AS [NOT] [MATERIALIZED]
/// (body) [, ...]`.
fn read_clause<'a>(
    tokens: &'a [TokenWithSpan],
    with: usize,
    ctes: &mut Vec<Cte<'a>>,
) -> Option<()> {
    let token = |at: usize| tokens.get(at).map(|t| &t.token);
    let mut at = next(tokens, with)?;
    if is_keyword(token(at)?, Keyword::RECURSIVE) {
        return None;
    }
    let clause_start = at;
    loop {
        let Token::Word(name) = token(at)? else {
            return None;
        };
        let defined_at = at;
        at = next(tokens, at)?;
        if token(at)? == &Token::LParen {
            at = next(tokens, closing(tokens, at)?)?;
        }
        if !is_keyword(token(at)?, Keyword::AS) {
            return None;
        }
        at = next(tokens, at)?;
        for optional in [Keyword::NOT, Keyword::MATERIALIZED] {
            if is_keyword(token(at)?, optional) {
                at = next(tokens, at)?;
            }
        }
        if token(at)? != &Token::LParen {
            return None;
        }
        let end = closing(tokens, at)?;
        ctes.push(Cte {
            name: &name.value,
            defined_at,
            scope: clause_start..=end,
        });
        match next(tokens, end) {
            Some(comma) if token(comma) == Some(&Token::Comma) => at = next(tokens, comma)?,
            _ => return Some(()),
        }
    }
}

/// The index of the next significant token after `at`.
fn next(tokens: &[TokenWithSpan], at: usize) -> Option<usize> {
    let rest = tokens.get(at + 1..)?;
    let offset = rest.iter().position(|t| !is_whitespace(&t.token))?;
    Some(at + 1 + offset)
}

/// The index of the `)` that closes the `(` at `open`.
fn closing(tokens: &[TokenWithSpan], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (at, token) in tokens.iter().enumerate().skip(open) {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether a token is the unquoted keyword `keyword`.
fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(w) if w.keyword == keyword && w.quote_style.is_none())
}
