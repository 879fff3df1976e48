//! Generated deep, long and garbage statements against the allowlist, on a 2 MiB stack:
//! every input gets an answer (no panic, no stack overflow), inputs past a bound are
//! refused by the text scan before anything is tokenized, refusals stay short, and what
//! sea-orm generates is still accepted.

use std::thread;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use repo_litefs::allowlist::{
    AllowlistPolicy, EXCERPT_LEN, Rejection, StatementKind, check_bounds, check_statement,
    check_statement_with,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::Tokenizer;

/// Runs `cases` generated inputs through `test`, on a thread with a 2 MiB stack (a typical
/// worker's), so a deep recursion aborts the test instead of passing on a bigger stack.
fn run<S>(cases: u32, strategy: S, test: fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy + Send + 'static,
    S::Value: 'static,
{
    let outcome = thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut runner = TestRunner::new(Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            });
            runner.run(&strategy, test).map_err(|e| e.to_string())
        })
        .expect("spawn a thread")
        .join();
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => panic!("{failure}"),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// A refusal's message is short and holds no control character.
fn bounded(verdict: &Result<StatementKind, Rejection>) -> Result<(), TestCaseError> {
    if let Err(refusal) = verdict {
        let message = refusal.to_string();
        prop_assert!(
            message.chars().count() <= 200 + EXCERPT_LEN,
            "{message:.300}"
        );
        prop_assert!(!message.chars().any(char::is_control), "{message:?}");
    }
    Ok(())
}

/// Pieces of SQL, hostile and not.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "(",
        ")",
        ",",
        ";",
        "'",
        "\"",
        "`",
        "[",
        "]",
        "--",
        "/*",
        "*/",
        "\n",
        " ",
        "INSERT",
        "INTO",
        "t",
        "VALUES",
        "SELECT",
        "FROM",
        "WHERE",
        "UPDATE",
        "SET",
        "DELETE",
        "WITH",
        "RECURSIVE",
        "AS",
        "c",
        "UNION",
        "ALL",
        "END",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "NOT",
        "AND",
        "OR",
        "IS",
        "IN",
        "LIKE",
        "GLOB",
        "MATCH",
        "REGEXP",
        "BETWEEN",
        "COLLATE",
        "ESCAPE",
        "ISNULL",
        "NOTNULL",
        "+",
        "-",
        "*",
        "/",
        "%",
        "||",
        "&",
        "|",
        "<<",
        ">>",
        "=",
        "==",
        "!=",
        "<>",
        "<",
        ">",
        "<=",
        ">=",
        "->",
        "->>",
        "::",
        "~",
        "?",
        "?1",
        ":a",
        "@b",
        "$c",
        "1",
        "1.5e3",
        "x'00'",
        "'s'",
        "\"q\"",
        "[i]",
        "load_extension",
        "é",
        "😀",
        "\t",
        "\0",
        "\u{1b}",
        "x",
        "X",
        "0",
        "e",
        "\\",
        "$",
        "٣",
        "½",
        "\u{a0}",
        ".",
        "_",
        "|/",
        "#",
    ])
}

#[test]
fn token_soups_get_a_bounded_answer() {
    run(3_000, prop::collection::vec(piece(), 0..400), |pieces| {
        bounded(&check_statement(&pieces.concat()))
    });
}

#[test]
fn random_bytes_get_a_bounded_answer() {
    run(2_000, prop::collection::vec(any::<u8>(), 0..600), |bytes| {
        bounded(&check_statement(&String::from_utf8_lossy(&bytes)))
    });
}

/// The scan's token count is never below the tokenizer's, so passing the scan bounds what
/// tokenizing allocates.
fn estimate_holds(sql: String) -> Result<(), TestCaseError> {
    let Ok(tokens) = Tokenizer::new(&SQLiteDialect {}, &sql).tokenize() else {
        return Ok(());
    };
    let limit = tokens.len().saturating_sub(1);
    let tight = AllowlistPolicy::default()
        .max_nesting(usize::MAX)
        .max_expr_depth(usize::MAX)
        .max_tokens(limit);
    prop_assert_eq!(
        check_bounds(&sql, &tight),
        Err(Rejection::TooManyTokens { limit }),
        "{:?}",
        sql
    );
    Ok(())
}

#[test]
fn the_token_estimate_is_never_below_the_tokenizer() {
    run(3_000, prop::collection::vec(piece(), 1..200), |pieces| {
        estimate_holds(pieces.concat())
    });
    run(3_000, "[ -~\n\t]{1,200}", estimate_holds);
    run(1_000, prop::collection::vec(any::<u8>(), 1..200), |bytes| {
        estimate_holds(String::from_utf8_lossy(&bytes).into_owned())
    });
}

#[test]
fn nesting_is_refused_exactly_past_the_bound() {
    run(300, (1usize..400, piece()), |(depth, inner)| {
        let sql = format!(
            "INSERT INTO t VALUES ({}1{inner}{})",
            "(".repeat(depth),
            ")".repeat(depth)
        );
        let verdict = check_statement(&sql);
        bounded(&verdict)?;
        if depth + 1 > 100 {
            prop_assert_eq!(
                check_bounds(&sql, &AllowlistPolicy::default()),
                Err(Rejection::TooDeep { limit: 100 })
            );
            prop_assert_eq!(verdict, Err(Rejection::TooDeep { limit: 100 }));
        } else {
            prop_assert_ne!(verdict, Err(Rejection::TooDeep { limit: 100 }));
        }
        Ok(())
    });
}

/// Operators counted once each, so the chain's depth is its length.
fn single_operator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "+", "-", "*", "/", "%", "||", "&", "|", "<<", ">>", "=", "==", "!=", "<>", "<", ">", "<=",
        ">=", "->", "->>", " AND ", " OR ", " IS ", " LIKE ",
    ])
}

#[test]
fn operator_chains_are_refused_exactly_past_the_bound() {
    run(
        200,
        (
            990usize..1_010,
            prop::collection::vec(single_operator(), 1..8),
        ),
        |(chain, ops)| {
            // `UPDATE t SET a = …`: the `=` is the first operator of the chain.
            let rest: String = (1..chain)
                .map(|i| format!("{}1", ops[i % ops.len()]))
                .collect();
            let sql = format!("UPDATE t SET a = 1{rest}");
            let verdict = check_statement(&sql);
            if chain > 1_000 {
                prop_assert_eq!(verdict, Err(Rejection::TooComplex { limit: 1_000 }));
            } else {
                prop_assert_eq!(verdict, Ok(StatementKind::Update));
            }
            Ok(())
        },
    );
}

#[test]
fn long_prefix_chains_get_a_bounded_answer() {
    let prefix = prop::sample::select(vec![
        "-",
        "+",
        "~",
        "NOT ",
        "CASE WHEN 1 THEN ",
        "(SELECT ",
        "EXISTS (",
        "abs(",
    ]);
    run(200, (prefix, 1usize..5_000), |(prefix, n)| {
        let sql = format!("UPDATE t SET a = {}1", prefix.repeat(n));
        bounded(&check_statement(&sql))
    });
}

#[test]
fn huge_literals_are_refused_by_length_alone() {
    run(16, (900usize..1_200, any::<char>()), |(kib, ch)| {
        let literal: String = std::iter::repeat_n(ch, (kib << 10) / ch.len_utf8()).collect();
        let sql = format!("INSERT INTO t VALUES (x'{literal}')");
        let verdict = check_statement(&sql);
        bounded(&verdict)?;
        if sql.len() > 1 << 20 {
            prop_assert_eq!(verdict, Err(Rejection::TooLong { limit: 1 << 20 }));
        }
        Ok(())
    });
}

/// Multi-MiB inputs are refused by [`check_bounds`], the allocation-free scan, with the same
/// refusal the full check gives: the full check never got as far as tokenizing them. With
/// the length bound lifted, what passes the scan tokenizes within the token bound.
#[test]
fn multi_mib_inputs_are_refused_before_tokenizing() {
    let shape = prop::collection::vec(piece(), 1..20);
    run(24, (shape, 2usize..8), |(pieces, mib)| {
        let unit = pieces.concat();
        let sql = unit.repeat(((mib << 20) / unit.len().max(1)).max(1));
        let scan = check_bounds(&sql, &AllowlistPolicy::default());
        prop_assert_eq!(scan.clone(), Err(Rejection::TooLong { limit: 1 << 20 }));
        prop_assert_eq!(check_statement(&sql).map(|_| ()), scan);
        let lifted = AllowlistPolicy::default().max_sql_len(usize::MAX);
        match check_bounds(&sql, &lifted) {
            Err(refusal) => {
                prop_assert_eq!(
                    check_statement_with(&sql, &lifted).map(|_| ()),
                    Err(refusal)
                );
            }
            Ok(()) => {
                let tokens = Tokenizer::new(&SQLiteDialect {}, &sql).tokenize();
                let count = tokens.map_or(0, |tokens| tokens.len());
                prop_assert!(
                    count <= lifted.token_limit(),
                    "{count} tokens passed the scan"
                );
            }
        }
        Ok(())
    });
}

/// What sea-orm writes: many placeholders, quoted names, RETURNING.
fn sea_orm_statement() -> impl Strategy<Value = String> {
    let insert = (1usize..=3_000, 1usize..=10).prop_map(|(rows, columns)| {
        let names: Vec<String> = (0..columns).map(|c| format!("\"c{c}\"")).collect();
        let row = format!("({})", vec!["?"; columns].join(", "));
        format!(
            "INSERT INTO \"t\" ({}) VALUES {} RETURNING {}",
            names.join(", "),
            vec![row; rows].join(", "),
            names.join(", ")
        )
    });
    let update = (1usize..50, 1usize..200).prop_map(|(set, conditions)| {
        let set: Vec<String> = (0..set).map(|c| format!("\"c{c}\" = ?")).collect();
        let conditions: Vec<String> = (0..conditions)
            .map(|c| format!("\"t\".\"c{c}\" = ?"))
            .collect();
        format!(
            "UPDATE \"t\" SET {} WHERE {}",
            set.join(", "),
            conditions.join(" AND ")
        )
    });
    let delete = (1usize..10_000).prop_map(|ids| {
        format!(
            "DELETE FROM \"t\" WHERE \"t\".\"id\" IN ({}) RETURNING *",
            vec!["?"; ids].join(", ")
        )
    });
    prop_oneof![insert, update, delete]
}

#[test]
fn sea_orm_statements_with_many_placeholders_are_accepted() {
    run(40, sea_orm_statement(), |sql| {
        prop_assert!(check_statement(&sql).is_ok(), "{:?}", check_statement(&sql));
        Ok(())
    });
}

#[test]
fn an_insert_of_3000_rows_of_10_placeholders_is_accepted() {
    let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    let sql = format!(
        "INSERT INTO \"t\" (\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\") VALUES {}",
        vec![row; 3_000].join(", ")
    );
    let verdict = thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || check_statement(&sql))
        .expect("spawn a thread")
        .join()
        .expect("no panic");
    assert_eq!(verdict, Ok(StatementKind::Insert));
}

#[test]
fn the_200_kb_chain_and_the_4_mib_parens_are_refused_on_a_small_stack() {
    let verdicts = thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let chain = format!("UPDATE t SET a = 1{}", "+1".repeat(100_000));
            let parens = "(".repeat(4 << 20);
            let lifted = AllowlistPolicy::default()
                .max_sql_len(usize::MAX)
                .max_tokens(usize::MAX);
            [
                check_statement(&chain),
                check_statement_with(&chain, &lifted),
                check_statement(&parens),
                check_statement_with(&parens, &lifted),
            ]
        })
        .expect("spawn a thread")
        .join()
        .expect("no panic");
    assert_eq!(
        verdicts[0],
        Err(Rejection::TooManyTokens { limit: 200_000 })
    );
    assert_eq!(verdicts[1], Err(Rejection::TooComplex { limit: 1_000 }));
    assert_eq!(verdicts[2], Err(Rejection::TooLong { limit: 1 << 20 }));
    assert_eq!(verdicts[3], Err(Rejection::TooDeep { limit: 100 }));
}

#[test]
fn recursive_ctes_are_refused_wherever_generated() {
    let position = prop::sample::select(vec![
        "INSERT INTO t (x) {cte} SELECT n FROM c",
        "INSERT INTO t SELECT * FROM ({cte} SELECT n FROM c)",
        "UPDATE t SET a = ({cte} SELECT max(n) FROM c)",
        "DELETE FROM t WHERE a IN ({cte} SELECT n FROM c)",
        "DELETE FROM t WHERE a IN (SELECT * FROM (SELECT * FROM ({cte} SELECT n FROM c)))",
    ]);
    let keyword = prop::sample::select(vec!["WITH", "WITH RECURSIVE", "with recursive", "With"]);
    let name = prop::sample::select(vec!["c", "C", "\"c\"", "[c]", "`c`"]);
    run(
        300,
        (position, keyword, name),
        |(position, keyword, name)| {
            let cte = format!("{keyword} c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM {name})");
            let sql = position.replace("{cte}", &cte);
            prop_assert_eq!(
                check_statement(&sql),
                Err(Rejection::RecursiveCte),
                "{}",
                sql
            );
            let allowed = AllowlistPolicy::default().allow_recursive_cte(true);
            prop_assert!(check_statement_with(&sql, &allowed).is_ok(), "{}", sql);
            Ok(())
        },
    );
}
