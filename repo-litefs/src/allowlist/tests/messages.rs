//! Rejection messages are bounded and escaped, whatever the input.

use crate::allowlist::*;

/// The longest message a refusal may carry: the longest fixed text plus one excerpt.
const MESSAGE_BOUND: usize = 200 + EXCERPT_LEN;

fn assert_bounded(refusal: &Rejection) {
    let message = refusal.to_string();
    assert!(
        message.chars().count() <= MESSAGE_BOUND,
        "{} chars: {message:.300}",
        message.len()
    );
    assert!(!message.chars().any(char::is_control), "{message:?}");
}

#[test]
fn parser_explanations_are_cut_and_escaped() {
    let name = format!("\n{}\r\u{1b}", "x".repeat(500_000));
    for sql in [
        format!("INSERT INTO t VALUES (1) {name}"),
        format!("{name} garbage"),
        format!("INSERT INTO t VALUES (1) '{}'", "y\n".repeat(100_000)),
        format!("INSERT INTO t VALUES ({name}"),
    ] {
        let refusal = check_statement(&sql).err();
        assert!(refusal.is_some(), "{sql:.80}");
        if let Some(refusal) = refusal {
            assert_bounded(&refusal);
        }
    }
}

#[test]
fn names_from_the_statement_are_cut_and_escaped() {
    let long = "q".repeat(10_000);
    for sql in [
        format!("DELETE FROM \"sqlite_{long}\n\""),
        format!("INSERT INTO t VALUES (\"load_extension\"('{long}'))"),
        format!("\"{long}\" \"x\""),
    ] {
        if let Err(refusal) = check_statement(&sql) {
            assert_bounded(&refusal);
        }
    }
    let refusal = Rejection::system_table(&format!("sqlite_{long}\u{7}"));
    assert_bounded(&refusal);
    assert!(refusal.to_string().ends_with("… may not be written"));
}

#[test]
fn bound_refusals_name_the_limit_and_the_setting() {
    for (refusal, setting) in [
        (Rejection::TooLong { limit: 7 }, "max_sql_len"),
        (Rejection::TooManyTokens { limit: 7 }, "max_tokens"),
        (Rejection::TooDeep { limit: 7 }, "max_nesting"),
        (Rejection::TooComplex { limit: 7 }, "max_expr_depth"),
    ] {
        let message = refusal.to_string();
        assert!(
            message.contains(" 7 ") && message.contains(setting),
            "{message}"
        );
    }
    assert!(
        Rejection::RecursiveCte
            .to_string()
            .contains("allow_recursive_cte")
    );
}
