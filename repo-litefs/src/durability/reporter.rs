//! `PositionReporter`: a replica's background task that tells the primary its position.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Position, PositionSource};
use crate::forward::Endpoints;
use crate::forward::channel::PrimaryChannel;
use crate::proto as pb;
use crate::secret::{AUTHORIZATION, ClusterSecret};
use crate::tracker::PrimaryTracker;

/// How often a replica reports even when its position did not change, so that a new
/// primary learns where it stands.
const HEARTBEAT: Duration = Duration::from_secs(1);

/// The longest a report may take.
const REPORT_TIMEOUT: Duration = Duration::from_secs(1);

/// What a replica needs to report its position.
#[derive(Debug, Clone)]
pub(crate) struct PositionReporter {
    /// This node's name, as the primary's candidates name it.
    pub(crate) node: String,
    /// Who the primary is.
    pub(crate) tracker: PrimaryTracker,
    /// This node's position.
    pub(crate) source: Arc<dyn PositionSource>,
    /// How to reach the primary.
    pub(crate) endpoints: Endpoints,
    /// The cluster secret, sent with every report.
    pub(crate) secret: ClusterSecret,
}

impl PositionReporter {
    /// Reports in the background, while this node is a replica, until aborted.
    pub(crate) fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(self.run())
    }

    async fn run(self) {
        let channel = PrimaryChannel::default();
        let mut roles = self.tracker.subscribe();
        let mut last: Option<(String, Position, Instant)> = None;
        loop {
            let state = self.tracker.current();
            if let Some(primary) = state.forward_to()
                && let Some(position) = self.source.current().await
            {
                let due = last.as_ref().is_none_or(|(p, at, when)| {
                    p != primary || *at != position || when.elapsed() >= HEARTBEAT
                });
                if due && self.send(&channel, primary, position).await {
                    last = Some((primary.to_owned(), position, Instant::now()));
                }
            }
            tokio::select! {
                _ = self.source.changed(HEARTBEAT) => {}
                changed = roles.changed() => {
                    if changed.is_err() {
                        // Nothing updates the role any more: keep reporting to the last one.
                        roles = self.tracker.subscribe();
                        tokio::time::sleep(HEARTBEAT).await;
                    }
                }
            }
        }
    }

    /// Sends one report to `primary`; returns whether it was delivered.
    async fn send(&self, channel: &PrimaryChannel, primary: &str, position: Position) -> bool {
        let Ok(url) = self.endpoints.resolve(primary) else {
            return false;
        };
        let Ok(channel) = channel.get(&url, primary, None, false) else {
            return false;
        };
        let Ok(bearer) = self.secret.bearer().parse() else {
            return false;
        };
        let mut request = tonic::Request::new(pb::PositionReport {
            node: self.node.clone(),
            lineage: position.lineage,
            txid: position.txid,
            checksum: position.checksum,
            primary: primary.to_owned(),
        });
        request.set_timeout(REPORT_TIMEOUT);
        request.metadata_mut().insert(AUTHORIZATION, bearer);
        let mut client = pb::forwarder_client::ForwarderClient::new(channel);
        match tokio::time::timeout(REPORT_TIMEOUT, client.report_position(request)).await {
            Ok(Ok(_)) => true,
            Ok(Err(status)) => {
                tracing::debug!(%primary, error = %status, "position report failed");
                false
            }
            Err(_) => false,
        }
    }
}
