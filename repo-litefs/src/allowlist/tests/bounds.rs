//! The size and shape bounds: each refuses what passes it, before tokenizing, on a small
//! stack, and accepts what stays within it.

use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::Tokenizer;

use super::on_small_stack;
use crate::allowlist::*;

/// `UPDATE t SET a = 1+1+…`, with `chain` operators in its one expression (`=` included).
fn update_chain(chain: usize, op: &str) -> String {
    format!("UPDATE t SET a = 1{}", format!("{op}1").repeat(chain - 1))
}

#[test]
fn long_text_is_refused() {
    let policy = AllowlistPolicy::default().max_sql_len(64);
    let sql = format!("DELETE FROM t WHERE a = '{}'", "x".repeat(64));
    assert_eq!(
        check_statement_with(&sql, &policy),
        Err(Rejection::TooLong { limit: 64 })
    );
    let huge = format!("INSERT INTO t VALUES ('{}')", "x".repeat(1 << 20));
    assert_eq!(
        check_statement(&huge),
        Err(Rejection::TooLong { limit: 1 << 20 })
    );
    assert!(check_statement(&huge[..(1 << 20) - 100].replace("')", "")).is_err());
}

#[test]
fn many_tokens_are_refused_and_whitespace_counts() {
    let spaces = format!("DELETE FROM t{}", " ".repeat(200_000));
    assert_eq!(
        check_bounds(&spaces, &AllowlistPolicy::default()),
        Err(Rejection::TooManyTokens { limit: 200_000 })
    );
    assert_eq!(
        check_statement(&spaces),
        Err(Rejection::TooManyTokens { limit: 200_000 })
    );
    let policy = AllowlistPolicy::default().max_tokens(20);
    assert_eq!(
        check_statement_with("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", &policy),
        Err(Rejection::TooManyTokens { limit: 20 })
    );
    // The bound holds whatever the tokenizer makes of quotes, so what is inside a literal or
    // a comment counts too: a run of word characters as one token, anything else as one.
    let words = format!("INSERT INTO t VALUES ('{}')", "a b ".repeat(50_000));
    assert_eq!(
        check_statement(&words),
        Err(Rejection::TooManyTokens { limit: 200_000 })
    );
    let comment = format!("INSERT INTO t VALUES (1) /* {} */", "( ".repeat(110_000));
    assert_eq!(
        check_statement(&comment),
        Err(Rejection::TooManyTokens { limit: 200_000 })
    );
    let one_word = format!("INSERT INTO t VALUES ('{}')", "ab".repeat(400_000));
    assert_eq!(check_statement(&one_word), Ok(StatementKind::Insert));
}

#[test]
fn the_token_estimate_is_never_below_the_tokenizer() {
    for sql in [
        "INSERT INTO t VALUES (1abc, 1e5x, 0x1Fg, 1.5e+3, 1$2$3, :a, @b, $c, ?1, x'00', 'it''s')",
        "UPDATE [a]]b] SET \"c\"\"d\" = `e``f` -- (((\n WHERE a->>'$.x' <> b::int",
        "DELETE FROM t WHERE a = 'é' || 'ü' || é /* ( */ AND b\u{a0}c",
        "INSERT INTO t VALUES (a😀a😀a😀a, 'unterminated",
    ] {
        let count = Tokenizer::new(&SQLiteDialect {}, sql)
            .tokenize()
            .map_or(0, |tokens| tokens.len());
        assert!(count > 0 || sql.contains("unterminated"));
        let tight = AllowlistPolicy::default().max_tokens(count.saturating_sub(1));
        if count > 0 {
            assert!(
                matches!(
                    check_bounds(sql, &tight),
                    Err(Rejection::TooManyTokens { .. })
                ),
                "{sql:?}: {count} tokens not caught by the estimate"
            );
        }
    }
}

#[test]
fn deep_nesting_is_refused_before_tokenizing() {
    let nested = |depth: usize| {
        format!(
            "INSERT INTO t VALUES ({}1{})",
            "(".repeat(depth - 1),
            ")".repeat(depth - 1)
        )
    };
    let policy = AllowlistPolicy::default().max_nesting(20);
    assert_eq!(
        check_statement_with(&nested(20), &policy),
        Ok(StatementKind::Insert)
    );
    assert_eq!(
        check_statement_with(&nested(21), &policy),
        Err(Rejection::TooDeep { limit: 20 })
    );
    assert_eq!(
        check_bounds(&nested(101), &AllowlistPolicy::default()),
        Err(Rejection::TooDeep { limit: 100 })
    );
    // Parentheses in strings, identifiers and comments do not count.
    let quoted = format!(
        "INSERT INTO t VALUES ('{0}', \"{0}\", [{0}]) -- {0}",
        "(".repeat(200)
    );
    assert_eq!(check_statement(&quoted), Ok(StatementKind::Insert));
    let commented = format!("INSERT INTO t VALUES (1) /* {} */", "(".repeat(200));
    assert_eq!(check_statement(&commented), Ok(StatementKind::Insert));
    // Beyond the ceiling, a policy is clamped.
    assert_eq!(
        AllowlistPolicy::default()
            .max_nesting(10_000)
            .nesting_limit(),
        NESTING_CEILING
    );
}

#[test]
fn operator_chains_are_refused_right_above_the_limit() {
    for op in [
        "+", " || ", " AND ", " = ", "<<", " IS ", "->>", "*", " LIKE ", " <> ",
    ] {
        let sql = update_chain(1_000, op);
        let verdict = on_small_stack(move || check_statement(&sql));
        assert!(
            !matches!(verdict, Err(Rejection::TooComplex { .. })),
            "{op}: {verdict:?}"
        );
        let sql = update_chain(1_001, op);
        let verdict = on_small_stack(move || check_statement(&sql));
        assert_eq!(verdict, Err(Rejection::TooComplex { limit: 1_000 }), "{op}");
    }
}

#[test]
fn copying_operators_weigh_more() {
    // `sqlparser` deep-copies the left side of GLOB, MATCH and REGEXP: 250 fit in 1,000.
    for op in [" GLOB ", " MATCH ", " REGEXP "] {
        let sql = format!("UPDATE t SET a = 1{}", format!("{op}1").repeat(249));
        let verdict = on_small_stack(move || check_statement(&sql));
        assert_eq!(verdict, Ok(StatementKind::Update), "{op}");
        let sql = format!("UPDATE t SET a = 1{}", format!("{op}1").repeat(250));
        let verdict = on_small_stack(move || check_statement(&sql));
        assert_eq!(verdict, Err(Rejection::TooComplex { limit: 1_000 }), "{op}");
    }
}

#[test]
fn list_items_are_separate_expressions_but_groups_add_up() {
    // 3 operators in each of 2,000 rows: fine.
    let rows = vec!["(? + 1, ? || 'x')"; 2_000].join(", ");
    assert_eq!(
        check_statement(&format!("INSERT INTO t (a, b) VALUES {rows}")),
        Ok(StatementKind::Insert)
    );
    // A chain of groups that each hold a chain is as deep as both together.
    let group = format!("({})", "1+".repeat(600) + "1");
    let sql = format!("UPDATE t SET a = {group} + 1{}", "+1".repeat(600));
    assert_eq!(
        check_statement(&sql),
        Err(Rejection::TooComplex { limit: 1_000 })
    );
}

#[test]
fn the_tokens_are_checked_again_exactly() {
    let sql = update_chain(50, "+");
    let tokens = Tokenizer::new(&SQLiteDialect {}, &sql)
        .tokenize_with_location()
        .unwrap_or_default();
    let policy = AllowlistPolicy::default().max_expr_depth(49);
    assert_eq!(
        crate::allowlist::tokens::check_tokens(&tokens, &policy),
        Err(Rejection::TooComplex { limit: 49 })
    );
    let policy = AllowlistPolicy::default().max_tokens(tokens.len() - 1);
    assert_eq!(
        crate::allowlist::tokens::check_tokens(&tokens, &policy),
        Err(Rejection::TooManyTokens {
            limit: tokens.len() - 1
        })
    );
    let nested = format!("DELETE FROM t WHERE {}1{}", "(".repeat(8), ")".repeat(8));
    let tokens = Tokenizer::new(&SQLiteDialect {}, &nested)
        .tokenize_with_location()
        .unwrap_or_default();
    let policy = AllowlistPolicy::default().max_nesting(7);
    assert_eq!(
        crate::allowlist::tokens::check_tokens(&tokens, &policy),
        Err(Rejection::TooDeep { limit: 7 })
    );
}

/// The issue's crash: a ~200 KB flat `1+1+…+1` parsed into a 100,000-deep tree whose drop
/// overflowed a worker's stack. Refused on a 2 MiB stack, however the token bound is set.
#[test]
fn a_200_kb_flat_chain_is_refused_on_a_small_stack() {
    let chain = format!("UPDATE t SET a = 1{}", "+1".repeat(100_000));
    let no_depth = AllowlistPolicy::default().max_expr_depth(usize::MAX);
    let no_tokens = AllowlistPolicy::default().max_tokens(usize::MAX);
    let verdict = on_small_stack(move || {
        [AllowlistPolicy::default(), no_depth, no_tokens].map(|p| check_statement_with(&chain, &p))
    });
    assert_eq!(verdict[0], Err(Rejection::TooManyTokens { limit: 200_000 }));
    assert_eq!(verdict[1], Err(Rejection::TooManyTokens { limit: 200_000 }));
    assert_eq!(verdict[2], Err(Rejection::TooComplex { limit: 1_000 }));
}

/// The issue's balloon: 4 MiB of `(` cost ~730 MiB before. Refused by the scan alone.
#[test]
fn four_mib_of_parentheses_are_refused_by_the_scan() {
    let parens = "(".repeat(4 << 20);
    let lifted = AllowlistPolicy::default()
        .max_sql_len(usize::MAX)
        .max_tokens(usize::MAX);
    let verdict = on_small_stack(move || {
        (
            check_bounds(&parens, &AllowlistPolicy::default()),
            check_bounds(&parens, &lifted),
            check_statement_with(&parens, &lifted).map(|_| ()),
        )
    });
    assert_eq!(verdict.0, Err(Rejection::TooLong { limit: 1 << 20 }));
    assert_eq!(verdict.1, Err(Rejection::TooDeep { limit: 100 }));
    assert_eq!(verdict.2, verdict.1);
}

#[test]
fn what_the_parser_bounds_itself_stays_refused() {
    let lifted = AllowlistPolicy::default().max_tokens(usize::MAX);
    for sql in [
        format!("UPDATE t SET a = {}1", "-".repeat(100_000)),
        format!("UPDATE t SET a = {}1", "~".repeat(100_000)),
        format!(
            "INSERT INTO t VALUES ({}1)",
            "CASE WHEN 1 THEN ".repeat(10_000)
        ),
    ] {
        let verdict = on_small_stack(move || check_statement_with(&sql, &lifted));
        assert!(verdict.is_err());
    }
}

/// The largest insert sea-orm can make: SQLite's 32,766 bound values, one column per row
/// (the most tokens per value), is accepted by the default policy.
#[test]
fn an_insert_of_the_most_values_sqlite_binds_is_accepted() {
    let rows = vec!["(?)"; 32_766].join(", ");
    let sql = format!(r#"INSERT INTO "tags" ("name") VALUES {rows} RETURNING "id""#);
    let verdict = on_small_stack(move || check_statement(&sql));
    assert_eq!(verdict, Ok(StatementKind::Insert));
}
