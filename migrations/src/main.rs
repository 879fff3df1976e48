//! Command-line entry point for the blog schema migrations.
//!
//! Wraps sea-orm's migration CLI (`up`, `down`, `status`, `fresh`, ...);
//! the database comes from `DATABASE_URL` or `--database-url`.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migrations::Migrator).await;
}
