//! `events`: a table without a unique constraint, so that a write executed twice shows as
//! two rows — for the tests that check failovers against a history of keyed writes.

use repo_core::{Action, Operation, Request};
use sea_orm::{DbBackend, Statement};

/// The table: one row per executed write, named by its key.
pub const CREATE: &str = "CREATE TABLE events (id bigserial PRIMARY KEY, key text NOT NULL)";

/// The write of the event `key` (the caller retries it under the idempotency key `key`).
pub fn insert(key: &str) -> Request {
    let statement = Statement::from_string(
        DbBackend::Postgres,
        format!("INSERT INTO events (key) VALUES ('{key}')"),
    );
    Request::new(Action::Execute, "events", Operation::Execute(statement))
}
