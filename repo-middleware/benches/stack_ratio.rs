//! The full default stack (telemetry → timeout → retry → breaker → executor) on the local
//! path, against raw `am.insert(&db)` on the same SQLite file, interleaved call by call in ABBA order.
//!
//! Run: `cargo bench -p repo-middleware --bench stack_ratio` (`ROUNDS=…` to change the
//! number of calls per variant). Telemetry runs with no tracing subscriber and no metrics
//! recorder installed, as in an application that has not set them up; a second variant
//! installs a tracing subscriber that records nothing, to show the cost of live spans.

use std::time::{Duration, Instant};

use repo_core::Repo;
use repo_middleware::StackConfig;
use sea_orm::ActiveModelTrait;

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{env_count, new_note, notes_db, percentile};

#[tokio::main]
async fn main() {
    let rounds = env_count("ROUNDS", 20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = notes_db(dir.path()).await;
    let mut builder = Repo::builder(db.clone());
    for layer in StackConfig::default().layers() {
        builder = builder.boxed_layer(layer);
    }
    let stacked = builder.build();

    let mut samples: [Vec<Duration>; 2] = Default::default();
    // ABBA order: half the rounds run raw first, half the stack first, so that whatever
    // state one call leaves behind (a sleeping sqlx worker, warm caches) favours neither.
    for i in 0..rounds + 1_000 {
        let (raw, stack) = if i % 2 == 0 {
            let t = Instant::now();
            new_note().insert(&db).await.expect("raw");
            let raw = t.elapsed();
            let t = Instant::now();
            stacked.insert(new_note()).await.expect("stack");
            (raw, t.elapsed())
        } else {
            let t = Instant::now();
            stacked.insert(new_note()).await.expect("stack");
            let stack = t.elapsed();
            let t = Instant::now();
            new_note().insert(&db).await.expect("raw");
            (t.elapsed(), stack)
        };
        if i >= 1_000 {
            samples[0].push(raw);
            samples[1].push(stack);
        }
    }
    for s in &mut samples {
        s.sort();
    }
    let base = percentile(&samples[0], 0.5).as_secs_f64();
    println!("insert on the local path, {rounds} interleaved calls per variant");
    for (name, s) in ["raw am.insert(&db)", "repo.insert, full default stack"]
        .iter()
        .zip(&samples)
    {
        let p50 = percentile(s, 0.5);
        println!(
            "{name:<34} p50 {:>7.1} µs  p99 {:>7.1} µs  p50 ratio {:.3}",
            p50.as_secs_f64() * 1e6,
            percentile(s, 0.99).as_secs_f64() * 1e6,
            p50.as_secs_f64() / base
        );
    }
}
