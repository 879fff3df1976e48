//! What a forwarded request may contain: single data-changing statements and registered
//! transaction names. Checked before anything runs, so a refused request writes nothing.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use repo_core::{Operation, RepoError, Request, StepOperation, TransactionRegistry};

use crate::allowlist::check_statement;

/// Verdicts are cached by SQL text: sea-orm sends the same few statement shapes (values are
/// bound, not inlined) over and over, and parsing one costs ~15 µs.
const CACHE_LIMIT: usize = 4096;

fn check_cached(sql: &str) -> Result<(), String> {
    if sql.to_ascii_lowercase().contains(crate::ledger::TABLE) {
        return Err(format!(
            "statements may not touch `{}`",
            crate::ledger::TABLE
        ));
    }
    static CACHE: OnceLock<Mutex<HashMap<String, Result<(), String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(verdict) = cache.lock().ok().and_then(|c| c.get(sql).cloned()) {
        return verdict;
    }
    let verdict = check_statement(sql).map(|_| ()).map_err(|r| r.to_string());
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CACHE_LIMIT {
            c.clear();
        }
        c.insert(sql.to_owned(), verdict.clone());
    }
    verdict
}

/// Refuses a request the primary must not run.
pub(crate) fn validate(
    request: &Request,
    transactions: &TransactionRegistry,
) -> Result<(), RepoError> {
    let refuse = |reason: String| RepoError::Rejected { reason };
    match &request.operation {
        Operation::Execute(stmt)
        | Operation::Query {
            statement: stmt, ..
        } => {
            check_cached(&stmt.sql).map_err(refuse)?;
        }
        Operation::Transaction { name, .. } => {
            if !transactions.contains(name) {
                return Err(RepoError::UnknownTransaction(name.clone()));
            }
        }
        Operation::Batch(steps) => {
            if steps.is_empty() {
                return Err(refuse("an empty batch".into()));
            }
            for step in steps {
                let (StepOperation::Execute(stmt)
                | StepOperation::Query {
                    statement: stmt, ..
                }) = &step.operation;
                check_cached(&stmt.sql)
                    .map_err(|r| refuse(format!("step `{}`: {r}", step.name)))?;
            }
        }
    }
    Ok(())
}
