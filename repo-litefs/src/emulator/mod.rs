//! A stand-in for LiteFS replication, for tests and local clusters. **Production runs real
//! LiteFS**; nothing here is meant for it.
//!
//! [`Replicator`] copies committed data from the primary's SQLite file to the replicas'
//! files, after a configurable lag, each copy in one transaction (so a replica sees a write
//! and its ledger row together, as LiteFS applies a whole LTX file at once). The
//! application opens the replicas' files read-only, so a local write there fails as on
//! LiteFS. A replica can be partitioned (it stops receiving data) and healed.
//!
//! Not emulated yet: the FUSE files (`.primary`, `<db>-pos`), the HTTP API, and moving the
//! primary role; the tests drive the primary through the tracker's manual handle.

mod replicator;

pub use replicator::Replicator;
