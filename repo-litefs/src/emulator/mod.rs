//! A stand-in for LiteFS replication, for tests and local clusters. **Production runs real
//! LiteFS**; nothing here is meant for it.
//!
//! [`Replicator`] copies committed pages from the primary's SQLite file to the replicas'
//! files, after a configurable lag. [`LiteFsEmulator`] adds what an application sees of
//! LiteFS: per-node directories with `.primary`, `<db>-pos` and `.lag`, the HTTP API
//! (`/info`, `/events`), and LiteFS's failure model.
//!
//! # Replication: pages, under SQLite's locks
//!
//! A round reads the primary while holding a read transaction on it (SQLite's SHARED lock:
//! no commit can change the file meanwhile, so the bytes are one committed state), notes
//! which pages differ from the previous read, and writes only the pages a replica lacks
//! into its file while holding SQLite's EXCLUSIVE lock on it: no reader is inside the file
//! during the write, and the next reader sees the whole new state, never half of it (as
//! LiteFS applies an LTX file at once). Page 1 gets a change counter the replica's readers
//! have not seen, so their caches and schemas are reloaded. Pages are bytes, so any schema
//! replicates: foreign keys, triggers, views, `WITHOUT ROWID` tables, any column type, and
//! schema changes.
//!
//! # Cost: the pages commits wrote, not the file
//!
//! LiteFS learns what a commit wrote from its FUSE layer; the emulator learns it from the
//! commit itself. A node's writer given the emulator's guard
//! ([`LiteFsEmulator::commit_guard`], in this process) or [`commit_reporter`] (a node in
//! another process, such as the local cluster's) reads, at SQLite's commit hook, which
//! pages the commit is about to write from its rollback journal, and reports them by the
//! file change counter the commit will leave (forgotten again if the transaction rolls
//! back). A round then reads only the pages reported for every counter since its last read,
//! plus page 1 and any page past the file's old end: its cost follows what changed,
//! whatever the database's size. A counter nobody reported (a commit by a connection
//! outside the guarded writer, an auto-vacuum database, a commit of more than 4,096 pages)
//! makes the round read and compare the whole file, as does the first read of each primary
//! ([`LiteFsEmulator::whole_reads`] counts those); a replica that joins or rejoins (or
//! after a failover) is compared whole once. A round whose TXID the previous read already
//! holds (commits observed before that read began) reads nothing: while commits keep
//! coming, the primary is read about once per lag, not once per commit
//! ([`LiteFsEmulator::primary_reads`]). A report is trusted: a commit reported that then
//! never happened without its process seeing the rollback (the process killed inside the
//! commit), followed by a commit reaching the same counter from a connection without a
//! guard, would leave that commit's pages unread. Rollback-journal databases only (SQLite's default;
//! a primary in WAL mode is refused with a warning): in WAL mode the committed state is
//! partly in the `-wal` file.
//!
//! # No busy polling
//!
//! A loop looks at the primary's file change counter (a 4-byte read, no SQL) every
//! millisecond while commits come, every 50 ms once idle, and at once when woken: by the
//! end of any commit on a node's file, from any process (the kernel reports the rollback
//! journal deleted, as SQLite's default journal mode does at every commit), a
//! guarded commit ([`LiteFsEmulator::commit_guard`]), [`LiteFsEmulator::wake`] or a wait
//! for sync. Idle looks only catch commits nothing announced (another journal mode, a file
//! system without events), seen up to 50 ms late. An idle cluster costs well under 1 % of
//! a core. A replica's file is closed after the copy has released its lock, so that a
//! watcher woken by the close (read-your-writes' `Arrivals`) reads the new state at once.
//!
//! # Failure model
//!
//! LiteFS's lease guarantees one primary at a time; a node without it refuses writes. The
//! emulator cannot intercept writes to a file the application holds open, so it fences at
//! the commit instead: each node's writer gets a [`repo_core::CommitGuard`]
//! ([`LiteFsEmulator::commit_guard`], given to [`repo_core::WriterConfig::commit_guard`]),
//! which SQLite's commit hook asks at every commit; a node without the lease has its commit
//! rolled back and the write fails with `RepoError::NotPrimary` (retryable: a forwarding
//! replica retries on the primary it finds next). The alternative of holding a SQLite lock
//! on the old primary's file was rejected: the application would wait for its busy timeout
//! and then see `SQLITE_BUSY`, not an immediate refusal.
//!
//! - [`LiteFsEmulator::promote`] (abrupt failover): the old primary loses the lease at
//!   once; the new one gets it only after a commit the old one had let through before the
//!   fence has ended (the emulator takes SQLite's RESERVED lock on the old file to know), so
//!   two nodes never commit in the same period. The new primary starts from its own
//!   position; what the old one had not replicated is lost, and its file is overwritten
//!   with the new primary's pages when replication next reaches it.
//! - [`LiteFsEmulator::handover`] (graceful): the primary stops committing, the target
//!   receives everything, then takes the lease: nothing acknowledged is lost.
//! - [`LiteFsEmulator::kill`]: the node stops (no replication, API 503, no commits); a
//!   killed primary leaves the cluster without a lease until a promotion.
//!   [`LiteFsEmulator::restart`] brings it back as it was, its tail then discarded.
//! - [`LiteFsEmulator::partition`] / [`LiteFsEmulator::heal`]: replication to a node stops
//!   and resumes; the node keeps its role.
//!
//! Positions: besides its TXID, each node has a lineage, the generation of the primary
//! tenure whose data it holds (a new one each time the loop starts copying from another
//! primary), so that [`LiteFsEmulator::position_source`] gives `Durability::Candidates`
//! positions that never compare one primary's TXIDs with another's.
//!
//! Not emulated: a primary in `PRAGMA locking_mode = EXCLUSIVE` (SQLite then changes the
//! file change counter only at the first commit while it holds the lock, and the emulator
//! notices commits by that counter: later ones do not replicate until a commit in normal
//! mode); a write outside the guarded writer (a connection the application opens
//! and writes on by itself) is not fenced, and its error would not be LiteFS's (`attempt
//! to write a readonly database`) but `NotPrimary`; replicas are read-only only if the
//! application opens them so; there is no lease TTL or automatic election (a killed
//! primary stays primary in name until promoted); a partitioned primary keeps its lease;
//! TXIDs count the changes the loop observed, not commits (several commits between two
//! looks count once) and a new primary's first look counts as one; the emulator's process
//! crashing mid-copy can leave a replica file torn (LiteFS's LTX application is
//! crash-safe).

mod commit_log;
mod commit_reports;
mod files;
mod http;
mod journal;
mod litefs;
mod pace;
mod pages;
mod position;
mod replication;
mod replicator;
mod state;

pub use commit_reports::commit_reporter;
pub use litefs::{EmulatedNode, EmulatorError, LiteFsEmulator};
pub use replicator::Replicator;
