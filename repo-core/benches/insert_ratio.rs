//! Interleaved p50/p99 of `am.insert(&db)` and `repo.insert(am)` on one SQLite file.
//!
//! Criterion (`benches/insert.rs`) measures each variant in its own block of time, so
//! drift on a shared machine lands on one variant only. This bench alternates the variants
//! call by call, rotating their order, and reports each one's percentiles and their ratio to raw sea-orm, which
//! is the figure `docs/BENCHMARKS.md` records. Run: `cargo bench -p repo-core --bench
//! insert_ratio` (`ROUNDS=…` to change the number of calls per variant).

use std::time::{Duration, Instant};

use repo_core::Repo;
use sea_orm::ActiveModelTrait;

#[path = "support/mod.rs"]
mod support;

use support::measure::{env_count, new_note, notes_db, percentile};
#[path = "support/pass_through.rs"]
mod pass_through;

#[tokio::main]
async fn main() {
    let rounds = env_count("ROUNDS", 20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = notes_db(dir.path()).await;
    let empty = Repo::new(db.clone());
    let layered = Repo::builder(db.clone())
        .layer(pass_through::PassThrough)
        .build();

    let mut samples: [Vec<Duration>; 3] = Default::default();
    // The order rotates every round, so that whatever state one call leaves behind (a
    // sleeping sqlx worker, warm caches) favours no variant.
    for i in 0..rounds + 1_000 {
        let mut took = [Duration::ZERO; 3];
        for k in 0..3 {
            let variant = (i + k) % 3;
            let t = Instant::now();
            match variant {
                0 => drop(new_note().insert(&db).await.expect("raw")),
                1 => drop(empty.insert(new_note()).await.expect("empty stack")),
                _ => drop(layered.insert(new_note()).await.expect("layered")),
            }
            took[variant] = t.elapsed();
        }
        if i >= 1_000 {
            for (s, t) in samples.iter_mut().zip(took) {
                s.push(t);
            }
        }
    }
    for s in &mut samples {
        s.sort();
    }
    // Tight loops too: blocks of 200 calls of one variant, alternating, so each variant
    // runs back to back (as an application's loop does) yet drift hits all of them alike.
    let mut blocks: [Vec<Duration>; 3] = Default::default();
    for _ in 0..(rounds / 200).max(5) {
        let t = Instant::now();
        for _ in 0..200 {
            new_note().insert(&db).await.expect("raw");
        }
        blocks[0].push(t.elapsed() / 200);
        let t = Instant::now();
        for _ in 0..200 {
            empty.insert(new_note()).await.expect("empty stack");
        }
        blocks[1].push(t.elapsed() / 200);
        let t = Instant::now();
        for _ in 0..200 {
            layered.insert(new_note()).await.expect("layered");
        }
        blocks[2].push(t.elapsed() / 200);
    }
    for b in &mut blocks {
        b.sort();
    }
    let base = percentile(&samples[0], 0.5).as_secs_f64();
    println!("insert, {rounds} interleaved calls per variant");
    for (name, s) in [
        "raw am.insert(&db)",
        "repo.insert (empty stack)",
        "repo.insert (pass-through layer)",
    ]
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
    let block_base = percentile(&blocks[0], 0.5).as_secs_f64();
    println!(
        "tight loops, median of {} alternating blocks of 200 calls",
        blocks[0].len()
    );
    for (name, b) in [
        "raw am.insert(&db)",
        "repo.insert (empty stack)",
        "repo.insert (pass-through layer)",
    ]
    .iter()
    .zip(&blocks)
    {
        let mean = percentile(b, 0.5);
        println!(
            "{name:<34} mean {:>7.1} µs  ratio {:.3}",
            mean.as_secs_f64() * 1e6,
            mean.as_secs_f64() / block_base
        );
    }
}
