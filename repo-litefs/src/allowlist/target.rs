//! The table an allowed statement writes: one plain table, outside SQLite's `sqlite_`
//! namespace.

use sqlparser::ast::{
    FromTable, ObjectName, ObjectNamePart, Statement, TableFactor, TableObject, TableWithJoins,
};

use super::Rejection;

/// Refuses a statement whose target is not one plain table outside the `sqlite_` namespace.
pub(super) fn check_targets(statement: &Statement) -> Result<(), Rejection> {
    for table in target_tables(statement)? {
        check_target(table)?;
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
