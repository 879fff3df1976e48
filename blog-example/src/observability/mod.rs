//! What a node tells its operators: logs ([`logging`]), its own Prometheus metrics
//! ([`metrics`]) and the write counters the blog adds to the repository ([`write_counts`]).
//!
//! Every node of the local cluster is a process of its own, so each `/metrics` page is that
//! node's alone; every series also carries a `node` label, so that pages from several nodes
//! can be merged.

pub mod logging;
pub mod metrics;
pub mod write_counts;
