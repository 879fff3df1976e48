//! Durability as the caller's choice: [`repo_core::Durability::Primary`] answers a write
//! once the primary committed it (replication is asynchronous, as LiteFS's: a failover can
//! lose it); [`repo_core::Durability::Candidates`] answers only once every lease candidate
//! reports holding it.
//!
//! # How
//!
//! - Every replica runs a `PositionReporter`: whenever its [`Position`] changes, and once a
//!   second, it sends it to the primary it follows (`ReportPosition`, a small unary RPC on
//!   the connection writes are forwarded over). The position comes from a
//!   [`PositionSource`]: LiteFS's `<db>-pos` ([`LiteFsPosition`]) on real LiteFS, the
//!   emulator's own (`LiteFsEmulator::position_source`) on the emulator.
//! - On the primary a [`DurabilityGate`] keeps the reports. After a `Candidates` write
//!   commits (forwarded: in the server; local: in [`DurabilityLayer`]), it asks its own
//!   source for the position that includes the commit and waits until the
//!   [`Candidates`] report holding it, bounded by [`DurabilityConfig::wait`] and the
//!   call's deadline (less a margin, so the answer arrives before the caller gives up).
//! - When the bound passes first the call fails with `RepoError::NotReplicated`: committed
//!   on the primary, not yet on every candidate (`CommitState::Committed`, not retried,
//!   counted in `litefs_durability_timeouts_total`, logged at WARN). A killed or
//!   partitioned candidate therefore stops `Candidates` writes from being acknowledged
//!   until it is back: that is the price of the guarantee.
//!
//! # Lineage
//!
//! TXIDs compare only within one primary's tenure; after a failover they start over. A
//! write's position is held only by a report of the same lineage. The emulator knows which
//! primary's data each node holds and gives exact lineages. LiteFS's `<db>-pos` has none,
//! only the TXID and the checksum of the whole database after it: the primary's
//! [`LiteFsPosition`] keeps a [`TenureHistory`] of its own (TXID, checksum) pairs in its
//! current tenure and counts a replica's report only when it names one of them exactly
//! (same TXID, same database), under that tenure as lineage. A replica on another history,
//! ahead of the primary, or at a TXID the primary never read is not counted until it
//! reports a matching one; a role change starts a new tenure, in which nothing reported
//! before counts.

mod board;
mod candidates;
mod config;
mod gate;
mod layer;
mod litefs_position;
mod position;
mod reporter;
mod tenure;

pub use candidates::Candidates;
pub use config::DurabilityConfig;
pub use gate::DurabilityGate;
pub use layer::{DurabilityLayer, DurabilityService};
pub use litefs_position::LiteFsPosition;
pub use position::{Position, PositionSource};
pub(crate) use reporter::PositionReporter;
pub use tenure::{MAX_COMMITS, TenureHistory};
