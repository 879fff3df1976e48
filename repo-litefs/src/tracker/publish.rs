//! Publishing a new state: only when it differs, with a log line and the metrics.

use tokio::sync::watch;

use super::state::PrimaryState;

/// Counter of published state changes (role or primary hostname).
pub(crate) const CHANGES_METRIC: &str = "litefs_primary_changes_total";
/// Gauge: 1 while this node is the primary, else 0.
pub(crate) const IS_PRIMARY_METRIC: &str = "litefs_is_primary";

/// The writing end of the tracker's state, shared by whatever updates it (a background source
/// or a [`PrimaryHandle`](super::PrimaryHandle)).
#[derive(Debug, Clone)]
pub(crate) struct Publisher {
    /// The channel every [`PrimaryTracker`](super::PrimaryTracker) clone reads from.
    sender: watch::Sender<PrimaryState>,
}

impl Publisher {
    /// A new channel holding `initial`; sets the `litefs_is_primary` gauge to match it.
    pub(crate) fn new(initial: PrimaryState) -> (Self, watch::Receiver<PrimaryState>) {
        metrics::gauge!(IS_PRIMARY_METRIC).set(primary_gauge(&initial));
        let (sender, receiver) = watch::channel(initial);
        (Self { sender }, receiver)
    }

    /// The state now published.
    pub(crate) fn current(&self) -> PrimaryState {
        self.sender.borrow().clone()
    }

    /// Publishes `next` if it differs from the current state; returns whether it did. A change
    /// is logged at info, counted in `litefs_primary_changes_total` and mirrored in
    /// `litefs_is_primary`.
    pub(crate) fn publish(&self, next: PrimaryState) -> bool {
        let mut previous = None;
        let changed = self.sender.send_if_modified(|state| {
            if *state == next {
                return false;
            }
            previous = Some(std::mem::replace(state, next.clone()));
            true
        });
        if let Some(previous) = previous {
            tracing::info!(
                role = %next.role,
                primary = next.primary.as_deref().unwrap_or(""),
                previous_role = %previous.role,
                previous_primary = previous.primary.as_deref().unwrap_or(""),
                "LiteFS primary state changed: {previous} -> {next}"
            );
            metrics::counter!(CHANGES_METRIC).increment(1);
            metrics::gauge!(IS_PRIMARY_METRIC).set(primary_gauge(&next));
        }
        changed
    }
}

fn primary_gauge(state: &PrimaryState) -> f64 {
    if state.is_primary() { 1.0 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    /// Keeps every counter and gauge in an atomic, by name (labels are not used here).
    #[derive(Default)]
    struct Snapshot {
        values: Mutex<HashMap<String, Arc<AtomicU64>>>,
    }

    impl Snapshot {
        fn slot(&self, key: &Key) -> Arc<AtomicU64> {
            let mut values = self.values.lock().expect("lock");
            values.entry(key.name().to_owned()).or_default().clone()
        }
        fn counter(&self, name: &str) -> Option<u64> {
            let values = self.values.lock().expect("lock");
            values.get(name).map(|v| v.load(Ordering::Acquire))
        }
        fn gauge(&self, name: &str) -> Option<f64> {
            self.counter(name).map(f64::from_bits)
        }
    }

    impl Recorder for Snapshot {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.slot(key))
        }
        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            Gauge::from_arc(self.slot(key))
        }
        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn only_changes_are_published_counted_and_mirrored_in_the_gauge() {
        let metrics = Snapshot::default();
        metrics::with_local_recorder(&metrics, || {
            let (publisher, mut rx) = Publisher::new(PrimaryState::unknown());
            assert_eq!(metrics.gauge(IS_PRIMARY_METRIC), Some(0.0));

            assert!(publisher.publish(PrimaryState::primary(Some("n1".into()))));
            assert_eq!(metrics.gauge(IS_PRIMARY_METRIC), Some(1.0));
            assert!(rx.has_changed().expect("open"));
            rx.mark_unchanged();

            assert!(!publisher.publish(PrimaryState::primary(Some("n1".into()))));
            assert!(!rx.has_changed().expect("open"), "same state: no wake-up");

            assert!(publisher.publish(PrimaryState::replica(Some("n2".into()))));
            assert_eq!(metrics.gauge(IS_PRIMARY_METRIC), Some(0.0));
            assert_eq!(metrics.counter(CHANGES_METRIC), Some(2));
            assert_eq!(
                publisher.current(),
                PrimaryState::replica(Some("n2".into()))
            );
        });
    }
}
