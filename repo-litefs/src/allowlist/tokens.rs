//! The bounds checked again on the tokens, exactly, before they are parsed.
//!
//! The pre-scan ([`super::prescan`]) keeps the tokenizer from allocating much; this check
//! makes the parser safe even if the pre-scan and the tokenizer ever disagreed about where
//! a string or a comment ends: the parser only ever sees a token stream whose length,
//! nesting and expression depth are within the policy.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::Rejection;
use super::meter::{Event, Meter};
use super::policy::AllowlistPolicy;
use super::prescan::word_event;

/// Checks the token count, nesting and expression depth of `tokens` against `policy`.
pub(super) fn check_tokens(
    tokens: &[TokenWithSpan],
    policy: &AllowlistPolicy,
) -> Result<(), Rejection> {
    if tokens.len() > policy.token_limit() {
        return Err(Rejection::TooManyTokens {
            limit: policy.token_limit(),
        });
    }
    let mut meter = Meter::new(policy);
    for token in tokens {
        if let Some(event) = event(&token.token) {
            meter.note(event)?;
        }
    }
    Ok(())
}

/// What a token means to the [`Meter`]. Anything that is not plainly a name, a literal,
/// a placeholder or punctuation that builds no chain counts as an operator.
fn event(token: &Token) -> Option<Event> {
    match token {
        Token::LParen => Some(Event::Open),
        Token::RParen => Some(Event::Close),
        Token::Comma | Token::SemiColon => Some(Event::Separator),
        Token::Word(word) if word.quote_style.is_none() => word_event(word.value.as_bytes()),
        Token::Word(_) => None,
        Token::EOF
        | Token::Whitespace(_)
        | Token::Number(..)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Placeholder(_)
        | Token::Char(_)
        | Token::Period => None,
        _ => Some(Event::Operator),
    }
}

/// Whether a token is whitespace or a comment.
pub(super) fn is_whitespace(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

/// The significant tokens (no whitespace or comments), with their index in `tokens`.
pub(super) fn significant(tokens: &[TokenWithSpan]) -> impl Iterator<Item = (usize, &Token)> {
    tokens
        .iter()
        .map(|t| &t.token)
        .enumerate()
        .filter(|(_, t)| !is_whitespace(t))
}
