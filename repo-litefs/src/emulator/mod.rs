//! A stand-in for LiteFS replication, for tests and local clusters. **Production runs real
//! LiteFS**; nothing here is meant for it.
//!
//! [`Replicator`] copies committed data from the primary's SQLite file to the replicas'
//! files, after a configurable lag, each copy in one transaction (so a replica sees a write
//! and its ledger row together, as LiteFS applies a whole LTX file at once). The
//! application opens the replicas' files read-only, so a local write there fails as on
//! LiteFS. A replica can be partitioned (it stops receiving data) and healed.
//!
//! [`LiteFsEmulator`] adds what an application sees of LiteFS: per-node directories with
//! `.primary` and `<db>-pos`, the HTTP API (`/info`, `/events`), failover, partitions and
//! stopped nodes.

mod http;
mod litefs;
mod replicator;

pub use litefs::{EmulatedNode, EmulatorError, LiteFsEmulator};
pub use replicator::Replicator;
