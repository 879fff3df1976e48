//! What a forwarded request may contain: single data-changing statements and registered
//! transaction names. Checked before anything runs, so a refused request writes nothing.

use std::sync::OnceLock;

use repo_core::{
    Operation, RejectReason, RejectedStatement, RepoError, Request, StatementRule, StepOperation,
    TransactionRegistry,
};

use crate::allowlist::{
    AllowlistPolicy, EXCERPT_LEN, VerdictCache, check_read_with, check_statement_with, sanitize,
};

/// The accepted statements of every server in the process, each with the policy that
/// accepted it; bounded in bytes ([`VerdictCache::default`]).
fn cache() -> &'static VerdictCache {
    static CACHE: OnceLock<VerdictCache> = OnceLock::new();
    CACHE.get_or_init(VerdictCache::default)
}

/// Checks one statement: a cache hit on the write path, the full check on a miss.
fn check(sql: &str, policy: &AllowlistPolicy) -> Result<(), RejectedStatement> {
    let cache = cache();
    if cache.is_accepted(sql, policy) {
        return Ok(());
    }
    // The allowlist first: it refuses oversized text in constant time, so the ledger
    // search below only ever reads a statement within the policy's length.
    check_statement_with(sql, policy).map_err(|refusal| RejectedStatement::from(&refusal))?;
    if mentions_ignoring_case(sql, crate::ledger::TABLE) {
        return Err(RejectedStatement::new(
            StatementRule::ReservedTable,
            &format!("statements may not touch `{}`", crate::ledger::TABLE),
        ));
    }
    cache.remember(sql, policy);
    Ok(())
}

/// Whether `haystack` contains `needle`, ignoring ASCII case, without allocating.
fn mentions_ignoring_case(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    needle.is_empty()
        || haystack
            .as_bytes()
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

/// Checks one statement of an interactive transaction: a write as [`check`] does, or a
/// single query (reads see the transaction's own writes); never the ledger's table.
pub(super) fn check_in_transaction(
    sql: &str,
    policy: &AllowlistPolicy,
) -> Result<(), RejectedStatement> {
    // The classification only picks which full check runs; either refuses on its own.
    match repo_core::statement::classify(sql) {
        repo_core::statement::StatementKind::Read => {
            check_read_with(sql, policy).map_err(|refusal| RejectedStatement::from(&refusal))?;
            if mentions_ignoring_case(sql, crate::ledger::TABLE) {
                return Err(RejectedStatement::new(
                    StatementRule::ReservedTable,
                    &format!("statements may not touch `{}`", crate::ledger::TABLE),
                ));
            }
            Ok(())
        }
        repo_core::statement::StatementKind::Write(_) => check(sql, policy),
    }
}

/// Refuses a request the primary must not run, under `policy`.
pub(crate) fn validate(
    request: &Request,
    transactions: &TransactionRegistry,
    policy: &AllowlistPolicy,
) -> Result<(), RepoError> {
    let refuse = |statement| RepoError::Rejected {
        reason: RejectReason::Statement(statement),
    };
    match &request.operation {
        Operation::Execute(stmt)
        | Operation::Query {
            statement: stmt, ..
        } => {
            check(&stmt.sql, policy).map_err(refuse)?;
        }
        Operation::Transaction { name, .. } => {
            if !transactions.contains(name) {
                return Err(RepoError::UnknownTransaction(sanitize(name, EXCERPT_LEN)));
            }
        }
        Operation::Batch(steps) => {
            if steps.is_empty() {
                return Err(RepoError::InvalidRequest("an empty batch".into()));
            }
            for step in steps {
                let (StepOperation::Execute(stmt)
                | StepOperation::Query {
                    statement: stmt, ..
                }) = &step.operation;
                check(&stmt.sql, policy)
                    .map_err(|r| refuse(r.in_step(&sanitize(&step.name, EXCERPT_LEN))))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_is_found_in_any_case() {
        let table = crate::ledger::TABLE;
        assert!(mentions_ignoring_case(
            &format!("DELETE FROM {}", table.to_ascii_uppercase()),
            table
        ));
        assert!(!mentions_ignoring_case("DELETE FROM t", table));
        assert!(
            check(
                &format!("DELETE FROM \"{table}\""),
                &AllowlistPolicy::default()
            )
            .is_err()
        );
    }

    #[test]
    fn refusals_are_not_cached_and_acceptances_are() {
        let policy = AllowlistPolicy::default();
        let refused = "DELETE FROM t WHERE a = 1 -- refused_are_not_cached\n; DROP TABLE t";
        assert!(check(refused, &policy).is_err());
        assert!(!cache().is_accepted(refused, &policy));
        let accepted = "DELETE FROM t WHERE a = ? -- acceptances_are_cached";
        assert!(check(accepted, &policy).is_ok());
        assert!(cache().is_accepted(accepted, &policy));
    }

    /// Prints what the allowlist costs a forwarded write, hit and miss; asserts nothing
    /// about time. Run with `cargo test --release -p repo-litefs --lib cost_per_write --
    /// --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn cost_per_write() {
        use std::time::Instant;
        let policy = AllowlistPolicy::default();
        let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; 3_000].join(", ");
        let statements = [
            ("insert", r#"INSERT INTO "posts" ("title", "slug", "body", "author_id") VALUES (?, ?, ?, ?) RETURNING "id", "title", "slug", "body", "author_id""#.to_owned()),
            ("update", r#"UPDATE "posts" SET "title" = ?, "body" = ? WHERE "posts"."id" = ? AND "posts"."author_id" = ?"#.to_owned()),
            ("delete", r#"DELETE FROM "tags" WHERE "tags"."name" <> ? RETURNING *"#.to_owned()),
            ("insert 3000x10", format!(r#"INSERT INTO "t" ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j") VALUES {rows}"#)),
        ];
        for (name, sql) in &statements {
            let rounds = if sql.len() > 16 << 10 { 200 } else { 20_000 };
            let mut hits = Vec::new();
            let mut misses = Vec::new();
            for _ in 0..5 {
                assert!(check(sql, &policy).is_ok());
                let start = Instant::now();
                for _ in 0..rounds {
                    let _ = std::hint::black_box(check(std::hint::black_box(sql), &policy));
                }
                hits.push(start.elapsed().as_nanos() / rounds);
                let start = Instant::now();
                for _ in 0..rounds / 20 {
                    let _ = std::hint::black_box(mentions_ignoring_case(sql, crate::ledger::TABLE));
                    let _ = std::hint::black_box(check_statement_with(
                        std::hint::black_box(sql),
                        &policy,
                    ));
                }
                misses.push(start.elapsed().as_nanos() / (rounds / 20).max(1));
            }
            // The hit path before this change: a lowercase copy for the ledger check, then a
            // mutex-guarded lookup that clones the verdict.
            let before: std::sync::Mutex<std::collections::HashMap<String, Result<(), String>>> =
                std::sync::Mutex::new([(sql.clone(), Ok(()))].into_iter().collect());
            let start = Instant::now();
            for _ in 0..rounds {
                let sql = std::hint::black_box(sql);
                let _ =
                    std::hint::black_box(sql.to_ascii_lowercase().contains(crate::ledger::TABLE));
                let _ = std::hint::black_box(
                    before
                        .lock()
                        .ok()
                        .and_then(|c| c.get(sql.as_str()).cloned()),
                );
            }
            let before_hit = start.elapsed().as_nanos() / rounds;
            hits.sort_unstable();
            misses.sort_unstable();
            println!(
                "{name} ({} bytes): hit {}..{} ns (median {}), miss {}..{} ns (median {}), \
                 hit before this change {before_hit} ns",
                sql.len(),
                hits[0],
                hits[4],
                hits[2],
                misses[0],
                misses[4],
                misses[2]
            );
        }
    }
}
