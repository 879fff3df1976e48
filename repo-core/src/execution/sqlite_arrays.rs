//! Arrays on SQLite: refused before anything is bound.
//!
//! sea-orm's `Value::Array` is a PostgreSQL value, and it exists in every build (sea-orm's
//! `sqlx-postgres` turns `postgres-array` on). sea-query's SQLite binder panics on one
//! ("Sqlite doesn't support array arguments"). A write that reaches a SQLite database with
//! an array — locally, forwarded from a replica, or as a step of an interactive
//! transaction — is refused here with a typed error and writes nothing.

use sea_orm::{DbBackend, Statement, Value};

use crate::error::RepoError;
use crate::request::{Operation, StepOperation};

/// Refuses `operation` when it binds an array and `backend` is SQLite.
pub(crate) fn refuse_arrays(backend: DbBackend, operation: &Operation) -> Result<(), RepoError> {
    if backend != DbBackend::Sqlite {
        return Ok(());
    }
    match operation {
        Operation::Execute(stmt)
        | Operation::Query {
            statement: stmt, ..
        } => statement(stmt),
        Operation::Transaction { .. } => Ok(()),
        Operation::Batch(steps) => steps.iter().try_for_each(|step| match &step.operation {
            StepOperation::Execute(stmt)
            | StepOperation::Query {
                statement: stmt, ..
            } => statement(stmt),
        }),
    }
}

fn statement(stmt: &Statement) -> Result<(), RepoError> {
    let values = stmt.values.as_ref().map(|v| v.0.as_slice());
    if values
        .unwrap_or_default()
        .iter()
        .any(|v| matches!(v, Value::Array(..)))
    {
        return Err(RepoError::InvalidRequest(
            "an array parameter: SQLite has no arrays (sea-orm's `Value::Array` is a \
             PostgreSQL value)"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_array_is_refused_on_sqlite_only() {
        let stmt = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (xs) VALUES (?)",
            [Value::from(vec![1_i32, 2])],
        );
        let op = Operation::Execute(stmt);
        let err = refuse_arrays(DbBackend::Sqlite, &op).expect_err("refused");
        assert!(err.to_string().contains("SQLite has no arrays"), "{err}");
        assert!(refuse_arrays(DbBackend::Postgres, &op).is_ok());
        let plain = Operation::Execute(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO t (x) VALUES (?)",
            [Value::from(1_i32)],
        ));
        assert!(refuse_arrays(DbBackend::Sqlite, &plain).is_ok());
    }
}
