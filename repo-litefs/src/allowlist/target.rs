//! The table an allowed statement writes: one plain table, outside SQLite's `sqlite_`
//! namespace.

use sqlparser::ast::{
    FromTable, ObjectName, ObjectNamePart, Statement, TableFactor, TableObject, TableWithJoins,
};

use super::{Rejection, SqlDialect};

/// Refuses a statement whose target is not one plain table outside the dialect's reserved
/// names (`sqlite_…`; `pg_catalog`, `information_schema`, `pg_…`).
pub(super) fn check_targets(statement: &Statement, dialect: SqlDialect) -> Result<(), Rejection> {
    for table in target_tables(statement)? {
        match dialect {
            SqlDialect::Sqlite => check_target(table)?,
            SqlDialect::Postgres => check_postgres_target(table)?,
        }
    }
    Ok(())
}

/// Refuses a target in PostgreSQL's system schemas or named like a system table.
fn check_postgres_target(name: &ObjectName) -> Result<(), Rejection> {
    let mut parts = Vec::with_capacity(name.0.len());
    for part in &name.0 {
        let ObjectNamePart::Identifier(ident) = part else {
            return Err(Rejection::UnsupportedTarget);
        };
        parts.push(ident.value.as_str());
    }
    let Some(table) = parts.last() else {
        return Err(Rejection::UnsupportedTarget);
    };
    let system_schema = parts[..parts.len() - 1].iter().any(|schema| {
        ["pg_catalog", "pg_toast", "information_schema"]
            .iter()
            .any(|s| s.eq_ignore_ascii_case(schema))
    });
    let system_name = table
        .get(..3)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("pg_"));
    if system_schema || system_name {
        return Err(Rejection::system_table(table));
    }
    Ok(())
}

/// The tables an allowed statement writes.
fn target_tables(statement: &Statement) -> Result<Vec<&ObjectName>, Rejection> {
    match statement {
        Statement::Insert(insert) => match &insert.table {
            TableObject::TableName(name) => Ok(vec![name]),
            TableObject::TableFunction(_) | TableObject::TableQuery(_) => {
                Err(Rejection::UnsupportedTarget)
            }
        },
        Statement::Update(update) => Ok(vec![plain_table(&update.table)?]),
        Statement::Delete(delete) => {
            // `DELETE t1, t2 FROM ...` (MySQL) names its targets before FROM.
            if !delete.tables.is_empty() || delete.using.is_some() {
                return Err(Rejection::UnsupportedTarget);
            }
            let (FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from)) = &delete.from;
            match from.as_slice() {
                [table] => Ok(vec![plain_table(table)?]),
                _ => Err(Rejection::UnsupportedTarget),
            }
        }
        // `WITH … INSERT/UPDATE/DELETE`: the wrapped statement's targets and those of
        // data-modifying CTEs (PostgreSQL).
        Statement::Query(query) => {
            let mut tables = Vec::new();
            for inner in super::with_dml::statements(query) {
                tables.extend(target_tables(inner)?);
            }
            if tables.is_empty() {
                return Err(Rejection::UnsupportedTarget);
            }
            Ok(tables)
        }
        _ => Err(Rejection::UnsupportedTarget),
    }
}

/// The name of a table reference that is a bare table without joins.
fn plain_table(table: &TableWithJoins) -> Result<&ObjectName, Rejection> {
    match &table.relation {
        TableFactor::Table {
            name, args: None, ..
        } if table.joins.is_empty() => Ok(name),
        _ => Err(Rejection::UnsupportedTarget),
    }
}

/// Refuses a target in SQLite's reserved `sqlite_` namespace, in any schema.
fn check_target(name: &ObjectName) -> Result<(), Rejection> {
    let Some(ObjectNamePart::Identifier(table)) = name.0.last() else {
        return Err(Rejection::UnsupportedTarget);
    };
    let reserved = table
        .value
        .get(..7)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("sqlite_"));
    if reserved {
        return Err(Rejection::system_table(&table.value));
    }
    Ok(())
}
