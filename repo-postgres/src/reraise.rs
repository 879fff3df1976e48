//! A database error from the primary, raised again on this node's PostgreSQL so that it is
//! a genuine `PgDatabaseError` (sea-orm's `sql_err()` classifies only those).
//!
//! The error arrives carried ([`SqlStateError`]: its SQLSTATE, message and PostgreSQL's
//! error fields). This node runs `DO $$ BEGIN RAISE EXCEPTION USING ERRCODE =
//! '<sqlstate>', MESSAGE = '<message>', DETAIL = …, CONSTRAINT = …; END $$` with every
//! field the primary reported (detail, hint, schema, table, column, data type,
//! constraint), which PostgreSQL allows on a hot standby (it writes nothing), and keeps the
//! error it gets when its code, message and fields are the primary's. Otherwise (a text
//! the block cannot carry, the database unreachable) the carried error stands: same code,
//! message, kind, constraint and table, only `sql_err()` differs. Only the error path pays
//! this round trip. What differs from the primary's genuine error is where PostgreSQL
//! raised it (file, line, routine, context: PL/pgSQL's `RAISE`; docs/BACKENDS.md).

use std::sync::Arc;

use repo_core::RepoError;
use repo_litefs::convert::{ErrorFields, SqlStateError};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, RuntimeErr, sqlx};

/// The dollar-quote tag of the block (a message containing it is not re-raised).
const TAG: &str = "$repo_reraise$";

/// `error` with a carried PostgreSQL error replaced by the same error raised on `db`: a
/// statement's error, the database error a named transaction failed with, and the error of
/// a batch's failing step.
pub async fn restore(db: &DatabaseConnection, error: RepoError) -> RepoError {
    match error {
        RepoError::Database(err) => RepoError::Database(restore_db_err(db, err).await),
        RepoError::TransactionFailed { name, source } => RepoError::TransactionFailed {
            name,
            source: restore_db_err(db, source).await,
        },
        RepoError::MultiStep { step, source } => match *source {
            // One level: a step's error is a statement's, never another batch's.
            RepoError::Database(err) => RepoError::MultiStep {
                step,
                source: Box::new(RepoError::Database(restore_db_err(db, err).await)),
            },
            other => RepoError::MultiStep {
                step,
                source: Box::new(other),
            },
        },
        other => other,
    }
}

/// `err` with a carried error replaced by a genuine one, when it can be raised here.
pub async fn restore_db_err(db: &DatabaseConnection, err: DbErr) -> DbErr {
    let (wrap, carried): (fn(RuntimeErr) -> DbErr, _) = match &err {
        DbErr::Exec(RuntimeErr::SqlxError(e)) => (DbErr::Exec, carried(e)),
        DbErr::Query(RuntimeErr::SqlxError(e)) => (DbErr::Query, carried(e)),
        _ => return err,
    };
    let Some(carried) = carried else {
        return err;
    };
    match raise(db, &carried).await {
        Some(genuine) => wrap(RuntimeErr::SqlxError(genuine)),
        None => err,
    }
}

/// The carried error inside `e`, if it is one.
fn carried(e: &Arc<sqlx::Error>) -> Option<SqlStateError> {
    e.as_database_error()?
        .try_downcast_ref::<SqlStateError>()
        .cloned()
}

/// The block that raises `carried`, or `None` when its text cannot be carried by it.
pub fn raise_block(carried: &SqlStateError) -> Option<String> {
    let code = carried.sqlstate();
    // Class 00 is success, not an error; RAISE refuses it.
    if code.starts_with("00") {
        return None;
    }
    let f = carried.fields();
    let options = [
        (
            "MESSAGE",
            Some(sqlx::error::DatabaseError::message(carried)),
        ),
        ("DETAIL", f.detail.as_deref()),
        ("HINT", f.hint.as_deref()),
        ("SCHEMA", f.schema.as_deref()),
        ("TABLE", f.table.as_deref()),
        ("COLUMN", f.column.as_deref()),
        ("DATATYPE", f.data_type.as_deref()),
        ("CONSTRAINT", f.constraint.as_deref()),
    ];
    let mut using = format!("ERRCODE = '{code}'");
    for (option, text) in options {
        let Some(text) = text else { continue };
        if text.contains(TAG) || text.contains('\0') {
            return None;
        }
        using.push_str(&format!(", {option} = '{}'", text.replace('\'', "''")));
    }
    Some(format!(
        "DO {TAG} BEGIN RAISE EXCEPTION USING {using}; END {TAG}"
    ))
}

/// The fields of a genuine error, as a carried one holds them.
fn fields_of(d: &dyn sqlx::error::DatabaseError) -> Option<ErrorFields> {
    d.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .map(ErrorFields::from_postgres)
}

/// Raises `carried` on `db` and returns the error PostgreSQL raised, if it is the same.
async fn raise(db: &DatabaseConnection, carried: &SqlStateError) -> Option<Arc<sqlx::Error>> {
    let block = raise_block(carried)?;
    let Err(DbErr::Exec(RuntimeErr::SqlxError(raised))) = db.execute_unprepared(&block).await
    else {
        return None;
    };
    let same = raised.as_database_error().is_some_and(|d| {
        d.code().as_deref() == Some(carried.sqlstate())
            && d.message() == sqlx::error::DatabaseError::message(carried)
            && fields_of(d).as_ref() == Some(carried.fields())
    });
    if !same {
        tracing::debug!("a re-raised PostgreSQL error differed from the primary's; carried as is");
        return None;
    }
    Some(raised)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_quoted_and_unsafe_ones_kept_carried() {
        let e = SqlStateError::new("23505".into(), "it's a duplicate".into());
        assert_eq!(
            raise_block(&e).as_deref(),
            Some(
                "DO $repo_reraise$ BEGIN RAISE EXCEPTION USING ERRCODE = '23505', \
                 MESSAGE = 'it''s a duplicate'; END $repo_reraise$"
            )
        );
        let tagged = SqlStateError::new("23505".into(), "x $repo_reraise$ y".into());
        assert_eq!(raise_block(&tagged), None);
        let success = SqlStateError::new("00000".into(), "ok".into());
        assert_eq!(raise_block(&success), None);
        let fields = ErrorFields {
            detail: Some("Key (email)=(o'brien) already exists.".into()),
            constraint: Some("users_email_key".into()),
            table: Some("users".into()),
            ..ErrorFields::default()
        };
        let with = SqlStateError::with_fields("23505".into(), "dup".into(), fields.clone());
        assert_eq!(
            raise_block(&with).as_deref(),
            Some(
                "DO $repo_reraise$ BEGIN RAISE EXCEPTION USING ERRCODE = '23505', \
                 MESSAGE = 'dup', DETAIL = 'Key (email)=(o''brien) already exists.', \
                 TABLE = 'users', CONSTRAINT = 'users_email_key'; END $repo_reraise$"
            )
        );
        let tagged_field = ErrorFields {
            hint: Some("$repo_reraise$".into()),
            ..fields
        };
        let tagged = SqlStateError::with_fields("23505".into(), "dup".into(), tagged_field);
        assert_eq!(raise_block(&tagged), None);
    }
}
