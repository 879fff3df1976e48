//! `EmulatedPosition`: a node's position on the emulator (lineage and TXID), for
//! `Durability::Candidates`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;

use super::state::Shared;
use crate::durability::{Position, PositionSource};

/// Node `node`'s position as the emulator knows it (see
/// [`super::LiteFsEmulator::position_source`]).
#[derive(Debug)]
pub(super) struct EmulatedPosition {
    /// The emulator; gone once it stops (no position then).
    shared: Weak<Shared>,
    /// The node.
    node: String,
    /// Position changes not yet waited on: kept across calls, so a change that happens
    /// while the caller is busy is not missed.
    positions: tokio::sync::Mutex<tokio::sync::watch::Receiver<u64>>,
}

impl EmulatedPosition {
    pub(super) fn new(shared: &Arc<Shared>, node: &str) -> Self {
        Self {
            shared: Arc::downgrade(shared),
            node: node.to_owned(),
            positions: tokio::sync::Mutex::new(shared.positions.subscribe()),
        }
    }
}

impl Shared {
    /// Node `node`'s lineage and TXID, if it holds any data yet.
    pub(crate) fn position(&self, node: &str) -> Option<Position> {
        let s = self.state.lock().ok()?;
        Some(Position {
            lineage: *s.lineage.get(node)?,
            txid: s.txid.get(node).copied().unwrap_or(0),
            checksum: 0,
        })
    }
}

impl PositionSource for EmulatedPosition {
    fn current(&self) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move { self.shared.upgrade()?.position(&self.node) })
    }

    fn after_commit(&self, began: Instant) -> BoxFuture<'_, Option<Position>> {
        Box::pin(async move {
            let shared = self.shared.upgrade()?;
            let mut rounds = shared.rounds.subscribe();
            let start = *rounds.borrow_and_update();
            shared.wake.wake();
            // Two rounds ended after this call: the second began after it, so it looked at
            // the primary after every commit that ended before it and gave it a TXID.
            while *rounds.borrow_and_update() < start + 2 {
                rounds.changed().await.ok()?;
            }
            let s = shared.state.lock().ok()?;
            let tenure = &s.tenure;
            if tenure.node != self.node || tenure.since > began {
                // Not this node's tenure, or one begun after the write did: its commit may
                // belong to an earlier tenure, whose unreplicated tail is gone.
                return None;
            }
            Some(Position {
                lineage: tenure.generation,
                txid: s.txid.get(&self.node).copied().unwrap_or(0),
                checksum: 0,
            })
        })
    }

    fn changed(&self, within: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let mut positions = self.positions.lock().await;
            if tokio::time::timeout(within, positions.changed())
                .await
                .is_ok_and(|r| r.is_err())
            {
                // The emulator is gone: nothing will change any more.
                drop(positions);
                tokio::time::sleep(within).await;
            }
        })
    }
}
