//! What every benchmark of the workspace shares: the row it inserts and how it reads
//! percentiles.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use sea_orm::Set;

use super::note;

/// The note every benchmark inserts.
pub fn new_note() -> note::ActiveModel {
    note::ActiveModel {
        title: Set("A title".into()),
        body: Set("Some body text for the benchmark".into()),
        stars: Set(5),
        ..Default::default()
    }
}

/// The `p` percentile (0.0..=1.0) of sorted samples.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len().saturating_sub(1))]
}

/// Microseconds, for printing.
pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
