//! LiteFS support for `repo-core`'s repository: knowing the primary, and forwarding a
//! replica's writes to it over gRPC.
//!
//! - [`backend`]: the seam between the shared machinery and a replication backend
//!   (LiteFS here; PostgreSQL in `repo-postgres`).
//! - [`node`]: **start here** — one node assembled from its settings: tracker, repository
//!   with the standard stack, forwarding and read-your-writes, server, ledger pruner.
//! - [`tracker`]: the node's role and the primary's hostname, held in memory and updated in
//!   the background from LiteFS (`/events`, `/info`, `.primary`).
//! - [`allowlist`]: what a forwarded statement may be (one INSERT/UPDATE/DELETE/REPLACE).
//! - [`forward`]: the tower layer that sends a replica's writes to the primary.
//! - [`server`]: the gRPC service that executes them there.
//! - [`ledger`]: exactly-once execution of forwarded writes on the primary.
//! - `emulator` (cargo feature `emulator`, off by default): a stand-in for LiteFS
//!   replication in tests and local clusters.
//! - [`convert`]: the protocol (`proto/litefs/forward/v1/forward.proto`) ⇄ `repo-core`.
//! - [`decode_budget`]: what a request may take in memory once decoded, checked first.
//! - [`durability`]: `Durability::Candidates`, writes answered once every lease candidate
//!   holds them.
//! - [`lag`]: LiteFS's `.lag` file (replication lag, for health endpoints).
//!
//! Production runs real LiteFS; nothing here replaces it.

pub mod allowlist;
pub mod backend;
pub mod convert;
mod correlation;
pub mod decode_budget;
pub mod durability;
#[cfg(feature = "emulator")]
pub mod emulator;
mod file_events;
pub mod forward;
pub mod lag;
pub mod ledger;
pub mod node;
pub mod position;
pub mod proto;
mod secret;
pub mod server;
mod supervise;
pub mod tracker;

pub use forward::{
    ChangeSignal, Endpoints, FileMark, Fingerprint, ForwardConfig, ForwardLayer, OnLag,
    ReadYourWrites,
};
pub use node::{Node, NodeConfig, NodeError, NodeHealth};

/// The README's code blocks, compiled as doctests (the quick start must build).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
pub use secret::{ClusterSecret, SecretError};
pub use server::{ForwardServer, ServerConfig, serve};
