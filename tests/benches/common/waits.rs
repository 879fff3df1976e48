//! Shared by the benches that measure the read-your-writes wait: the waits the metrics
//! recorder saw.

use metrics_util::debugging::{DebugValue, Snapshotter};

/// The read-your-writes waits recorded since the last call, in ms.
pub(crate) fn waits(snapshotter: &Snapshotter) -> Vec<f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "litefs_consistency_wait_seconds")
        .flat_map(|(.., value)| match value {
            DebugValue::Histogram(values) => values.into_iter().map(|v| v.0 * 1e3).collect(),
            _ => Vec::new(),
        })
        .collect()
}
