//! The node's Prometheus recorder: latencies as histograms (with buckets, so they can be
//! added up across nodes, unlike summaries), a `node` label on every series, and every
//! gauge and write counter present from the first scrape.

use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};

use super::write_counts;

/// Bucket bounds in seconds, from a local write (~1 ms) to a timed-out one (5 s and more).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Bucket bounds of the read-your-writes wait: every millisecond up to 40 ms (the wait is
/// the configured replication lag plus a few milliseconds, so a median is read to the
/// millisecond), then as [`LATENCY_BUCKETS`].
const CONSISTENCY_BUCKETS: [f64; 49] = [
    0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.010, 0.011, 0.012,
    0.013, 0.014, 0.015, 0.016, 0.017, 0.018, 0.019, 0.020, 0.021, 0.022, 0.023, 0.024, 0.025,
    0.026, 0.027, 0.028, 0.029, 0.030, 0.031, 0.032, 0.033, 0.034, 0.035, 0.036, 0.037, 0.038,
    0.039, 0.040, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Installs this process's recorder for node `node` and returns the handle `/metrics`
/// renders. Fails if the process already has a recorder.
pub fn install(node: &str) -> Result<PrometheusHandle, BuildError> {
    let handle = PrometheusBuilder::new()
        .set_buckets(&LATENCY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full("litefs_consistency_wait_seconds".to_owned()),
            &CONSISTENCY_BUCKETS,
        )?
        .add_global_label("node", node)
        .install_recorder()?;
    register();
    Ok(handle)
}

/// Describes the series a scrape should always show, and gives each its starting value.
fn register() {
    metrics::describe_gauge!(
        "litefs_is_primary",
        "1 while this node holds the primary lease, 0 otherwise"
    );
    metrics::describe_gauge!(
        "repo_circuit_state",
        "the write stack's circuit breaker: 0 closed, 1 half-open, 2 open"
    );
    metrics::describe_histogram!(
        "repo_call_duration_seconds",
        metrics::Unit::Seconds,
        "repository calls by route (local or forwarded) and outcome"
    );
    metrics::describe_histogram!(
        "litefs_consistency_wait_seconds",
        metrics::Unit::Seconds,
        "how long a forwarded write waited to be readable here (read your writes)"
    );
    metrics::describe_counter!(
        "litefs_ledger_duplicates_total",
        "forwarded writes answered from the ledger: a retry of a write already done"
    );
    // The tracker sets the role gauge as soon as it knows the role; until then, not primary.
    metrics::gauge!("litefs_is_primary").set(0.0);
    metrics::gauge!("repo_circuit_state", "breaker" => "default").set(0.0);
    metrics::counter!("litefs_ledger_duplicates_total").absolute(0);
    write_counts::register();
}
