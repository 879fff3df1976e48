//! Real PostgreSQL 15 for the integration tests: a primary and a streaming standby
//! (`pg_basebackup -R`) on free loopback ports, in a temporary directory, run as an
//! unprivileged user, torn down when dropped (also when a test panics).
//!
//! Tests skip with a message when PostgreSQL is missing, unless [`install::REQUIRE_VAR`] is
//! set (`.ci/run` sets it): then a missing PostgreSQL fails them.

pub mod array_columns;
pub mod cluster;
pub mod events;
pub mod install;
pub mod listeners;
pub mod mood;
pub mod nodes;
pub mod server;
pub mod tag_batch;
pub mod tagged;

pub use cluster::{PgCluster, PgError};
pub use server::PgServer;
