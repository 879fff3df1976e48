//! What a forwarded request may contain: single data-changing statements and registered
//! transaction names. Checked before anything runs, so a refused request writes nothing.

use repo_core::{Operation, RepoError, Request, StepOperation, TransactionRegistry};

use crate::allowlist::check_statement;

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
            check_statement(&stmt.sql).map_err(|r| refuse(r.to_string()))?;
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
                check_statement(&stmt.sql)
                    .map_err(|r| refuse(format!("step `{}`: {r}", step.name)))?;
            }
        }
    }
    Ok(())
}
