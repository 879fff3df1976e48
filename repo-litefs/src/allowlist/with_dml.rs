//! Data-changing statements under a `WITH` clause: `WITH x AS (SELECT …) INSERT …` (both
//! dialects), and PostgreSQL's data-modifying common table expressions (`WITH ins AS
//! (INSERT … RETURNING id) INSERT … SELECT … FROM ins`). `sqlparser` files them as queries
//! whose body is the statement; they are as data-changing as the statement alone, and every
//! table they write is checked like its target.

use sqlparser::ast::{Query, SetExpr, Statement};

/// The INSERT, UPDATE or DELETE a query wraps (its body), if it is one.
pub(super) fn wrapped(query: &Query) -> Option<&Statement> {
    match query.body.as_ref() {
        SetExpr::Insert(statement) | SetExpr::Update(statement) | SetExpr::Delete(statement) => {
            Some(statement)
        }
        _ => None,
    }
}

/// Every data-changing statement in `query`: its body, if it is one, and those of its
/// common table expressions, at any depth.
pub(super) fn statements(query: &Query) -> Vec<&Statement> {
    let mut found = Vec::new();
    collect(query, &mut found);
    found
}

fn collect<'q>(query: &'q Query, found: &mut Vec<&'q Statement>) {
    if let Some(statement) = wrapped(query) {
        found.push(statement);
    }
    for cte in query.with.iter().flat_map(|with| &with.cte_tables) {
        collect(&cte.query, found);
    }
}
