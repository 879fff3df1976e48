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

/// A fresh SQLite file in `dir` with the `notes` table, in WAL with `synchronous=NORMAL`
/// as LiteFS deployments run it (it also keeps fsync noise from drowning the overhead
/// being measured).
pub async fn notes_db(dir: &std::path::Path) -> sea_orm::DatabaseConnection {
    use sea_orm::{ConnectionTrait, Database, Schema};
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let db = Database::connect(&url).await.expect("open");
    db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        .await
        .expect("pragmas");
    let schema = Schema::new(db.get_database_backend());
    db.execute(&schema.create_table_from_entity(note::Entity))
        .await
        .expect("table");
    db
}

/// The value of environment variable `name` (a count, a list, …), or `default`.
pub fn env_count<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(default)
}

/// Milliseconds, for printing.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The `p` percentile (0.0..=1.0) of `values`, in any order (NaN when there are none).
pub fn percentile_of(mut values: Vec<f64>, p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let idx = ((values.len() as f64 - 1.0) * p).round() as usize;
    values.get(idx).copied().unwrap_or(f64::NAN)
}

/// Median, minimum and maximum of one figure over a benchmark's repetitions.
pub struct Spread {
    values: Vec<f64>,
}

impl Spread {
    /// The spread of `values` (one per repetition).
    pub fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Self { values }
    }

    /// The median (NaN when there are no values).
    pub fn median(&self) -> f64 {
        self.values
            .get(self.values.len() / 2)
            .copied()
            .unwrap_or(f64::NAN)
    }

    /// The smallest and the largest value (NaN when there are none).
    pub fn min_max(&self) -> (f64, f64) {
        match self.values.first().zip(self.values.last()) {
            Some((min, max)) => (*min, *max),
            None => (f64::NAN, f64::NAN),
        }
    }

    /// `median (min–max)` with `decimals` decimals, for printing.
    pub fn show(&self, decimals: usize) -> String {
        if self.values.is_empty() {
            return "no samples".into();
        }
        let (min, max) = self.min_max();
        let median = self.median();
        format!("{median:.decimals$} ({min:.decimals$}–{max:.decimals$})")
    }
}

/// The machine's load averages (1, 5, 15 min), as `/proc/loadavg` says, for the record.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}

/// The median of `values`, in any order (NaN when there are none).
pub fn median(values: Vec<f64>) -> f64 {
    Spread::of(values).median()
}

/// The smallest and the largest of `values` (NaN when there are none).
pub fn min_max(values: &[f64]) -> (f64, f64) {
    Spread::of(values.to_vec()).min_max()
}
