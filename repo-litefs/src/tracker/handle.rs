//! [`PrimaryHandle`]: setting the state of a manual tracker by hand.

use super::publish::Publisher;
use super::state::PrimaryState;

/// Sets the state of a tracker made with [`PrimaryTracker::manual`](super::PrimaryTracker::manual):
/// for tests, the LiteFS emulator, and static setups with a fixed primary.
///
/// Changes are published exactly like those read from LiteFS (logged, counted, mirrored in the
/// `litefs_is_primary` gauge). Clones share the same tracker; when the last clone is dropped,
/// the tracker's state is frozen and waiters get [`TrackerError::Closed`](super::TrackerError::Closed).
#[derive(Debug, Clone)]
pub struct PrimaryHandle {
    /// The tracker's channel.
    publisher: Publisher,
}

impl PrimaryHandle {
    pub(crate) fn new(publisher: Publisher) -> Self {
        Self { publisher }
    }

    /// Publishes `state`; returns whether it differed from the current one (subscribers are
    /// woken only then).
    pub fn set(&self, state: PrimaryState) -> bool {
        self.publisher.publish(state)
    }

    /// The state now published.
    pub fn current(&self) -> PrimaryState {
        self.publisher.current()
    }
}
