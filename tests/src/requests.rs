//! Requests built by hand, for tests that drive the executor or the server directly.

use repo_core::{Action, Operation, Request};
use sea_orm::{DbBackend, Statement};

/// `INSERT INTO tags (name) VALUES (?)` as a request.
pub fn insert_tag(name: &str) -> Request {
    Request::new(
        Action::Insert,
        "tags",
        Operation::Execute(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "INSERT INTO tags (name) VALUES (?)",
            [name.into()],
        )),
    )
}
