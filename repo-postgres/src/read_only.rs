//! PostgreSQL's "read-only SQL transaction" (SQLSTATE 25006): a write that reached a
//! standby, which therefore did not run.

use repo_core::RepoError;
use sea_orm::{DbErr, RuntimeErr};

/// The SQLSTATE a standby refuses a write with.
pub const READ_ONLY: &str = "25006";

/// Whether `error` is PostgreSQL's read-only refusal: a statement's error, a named
/// transaction's, or a batch step's.
pub fn is_read_only(error: &RepoError) -> bool {
    match error {
        RepoError::Database(db) | RepoError::TransactionFailed { source: db, .. } => {
            is_read_only_db(db)
        }
        RepoError::MultiStep { source, .. } => match source.as_ref() {
            RepoError::Database(db) => is_read_only_db(db),
            _ => false,
        },
        _ => false,
    }
}

/// Whether `db` carries SQLSTATE 25006.
fn is_read_only_db(db: &DbErr) -> bool {
    match db {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|code| code == READ_ONLY),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use repo_litefs::convert::SqlStateError;
    use std::sync::Arc;

    fn carried(code: &str) -> DbErr {
        let e = sea_orm::sqlx::Error::Database(Box::new(SqlStateError::new(
            code.into(),
            "cannot execute INSERT in a read-only transaction".into(),
        )));
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn read_only_refusals_are_told_from_other_errors() {
        assert!(is_read_only(&RepoError::Database(carried("25006"))));
        assert!(is_read_only(&RepoError::TransactionFailed {
            name: "t".into(),
            source: carried("25006"),
        }));
        assert!(is_read_only(&RepoError::MultiStep {
            step: "s".into(),
            source: Box::new(RepoError::Database(carried("25006"))),
        }));
        assert!(!is_read_only(&RepoError::Database(carried("23505"))));
        assert!(!is_read_only(&RepoError::NotPrimary { primary: None }));
    }
}
