//! Per-call options: extra layers, a timeout, a consistency wish, an idempotency key.

use std::time::Duration;

use crate::idempotency_key::IdempotencyKey;
use crate::request::Consistency;
use crate::stack::BoxedLayer;

/// What one call adds on top of the repository's defaults.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Layers wrapped around the repository's stack for this call only, outermost first.
    pub layers: Vec<BoxedLayer>,
    /// How long the call may take; overrides the repository's default timeout.
    pub timeout: Option<Duration>,
    /// The consistency this call asks for.
    pub consistency: Consistency,
    /// The caller's key for this write: its requests get ids derived from it.
    pub idempotency_key: Option<IdempotencyKey>,
    /// When the primary may answer; `None`: the node's default.
    pub durability: Option<crate::durability::Durability>,
}
