//! PostgreSQL streaming replicas as a backend of the shared forwarding machinery
//! (`repo_litefs`): the same repository, stack, protocol, ledger, server and node, with
//! what differs per backend ([`repo_litefs::backend::Backend`]) answered by PostgreSQL.
//!
//! - **Role** ([`RoleFollower`]): `pg_is_in_recovery()` on the node's own connection,
//!   polled in the background and at once after a write failed with SQLSTATE 25006
//!   (read-only transaction) — never per write. Not in recovery: this node is the
//!   primary; in recovery: a replica of the node behind the server it streams from
//!   ([`RoleConfig::upstream`], discovery), or else of the configured primary name, which
//!   the node's `Endpoints` template maps to its forwarding server.
//! - **Failover**: a write this node's database refuses as read-only (SQLSTATE 25006,
//!   [`is_read_only`]) did not run: it fails with `NotPrimary` (retryable), here and for
//!   the node that forwarded it, and the role is read again at once.
//! - **Read your writes** ([`LsnPosition`]): the primary answers each forwarded write with
//!   `pg_current_wal_lsn()` read after the commit; the replica waits, bounded, until
//!   `pg_last_wal_replay_lsn()` reaches it (or the write's ledger row is visible).
//! - **Durability** ([`WalPosition`]): for `Durability::Candidates`, standbys report the
//!   timeline and LSN their WAL receiver flushed; the primary answers once every candidate
//!   holds its timeline and `pg_current_wal_lsn()` after the commit.
//! - **Allowlist**: the PostgreSQL dialect ([`repo_litefs::allowlist::SqlDialect::Postgres`]).
//! - **Errors** ([`reraise`]): a database error from the primary arrives with its SQLSTATE
//!   and is raised again on the replica's connection (`RAISE ... USING ERRCODE`), so it is
//!   a genuine `PgDatabaseError` and `sql_err()` classifies it as the primary's.
//!
//! Start a node with [`node_config`] and `repo_litefs::Node::start`.

mod backend;
mod lsn;
mod node;
mod position;
mod read_only;
mod refresh;
pub mod reraise;
mod role;
mod wal_position;

pub use backend::Postgres;
pub use lsn::{format_lsn, parse_lsn};
pub use node::{connect, node_config};
pub use position::LsnPosition;
pub use read_only::{READ_ONLY, is_read_only};
pub use refresh::{RoleRefreshLayer, RoleRefreshService};
pub use role::{RoleConfig, RoleFollower};
pub use wal_position::WalPosition;
