//! `DurabilityConfig`: a node's durability settings.

use std::sync::Arc;
use std::time::Duration;

use repo_core::Durability;

use super::{Candidates, PositionSource};

/// A node's durability settings: its default [`Durability`], the lease candidates a
/// [`Durability::Candidates`] write must reach, the longest wait for them, and where
/// positions come from.
///
/// ```
/// use repo_core::Durability;
/// use repo_litefs::durability::{Candidates, DurabilityConfig};
///
/// let config = DurabilityConfig::new(Candidates::named(["node-1", "node-2", "node-3"]))
///     .default_durability(Durability::Candidates);
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct DurabilityConfig {
    /// What a write that does not choose gets.
    pub(crate) default: Durability,
    /// Who must hold a `Candidates` write.
    pub(crate) candidates: Candidates,
    /// The longest wait for the candidates, also bounded by the call's deadline.
    pub(crate) wait: Duration,
    /// Where this node's position comes from (default: LiteFS's `<db>-pos` in the mount).
    pub(crate) source: Option<Arc<dyn PositionSource>>,
}

impl DurabilityConfig {
    /// `Candidates` writes must reach `candidates`; the default stays
    /// [`Durability::Primary`]; waits last at most 5 s.
    pub fn new(candidates: Candidates) -> Self {
        Self {
            default: Durability::Primary,
            candidates,
            wait: Duration::from_secs(5),
            source: None,
        }
    }

    /// The durability of writes that do not choose one (per call:
    /// `WriteCall::durability`).
    pub fn default_durability(mut self, durability: Durability) -> Self {
        self.default = durability;
        self
    }

    /// The longest wait for the candidates (the call's deadline may end it sooner).
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Where this node reads its position: on real LiteFS the default,
    /// [`super::LiteFsPosition`] on `<db>-pos` in the mount directory, fits; the emulator
    /// gives its own (`LiteFsEmulator::position_source`).
    pub fn position_source(mut self, source: Arc<dyn PositionSource>) -> Self {
        self.source = Some(source);
        self
    }
}
