//! Real LiteFS for the integration tests: LiteFS processes under FUSE on one machine
//! ([`LiteFsCluster`]), and the repository stack on each of their nodes ([`Stacks`]).
//!
//! Needs the `litefs` binary, `/dev/fuse` and `fusermount3` (root). Without them the tests
//! skip with a message, unless `CI_REQUIRE_LITEFS` is set; see [`install`]. Every LiteFS
//! process is stopped and unmounted when its cluster is shut down or dropped (a panicking
//! test included); only a test process killed outright leaves them behind.

pub mod cluster;
pub mod halt;
pub mod install;
pub mod process;
pub mod stack;
pub mod tag_writer;

pub use cluster::{LiteFsCluster, LiteFsError};
pub use halt::{HaltError, HaltLock};
pub use stack::{DB, NodeStack, StackOptions, Stacks, WaitFor};
pub use tag_writer::{TagWriter, open_for_halt};
