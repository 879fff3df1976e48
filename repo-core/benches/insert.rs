//! `repo.insert(am)` against `am.insert(&db)` on the same SQLite file, in one run.
//!
//! Three variants: raw sea-orm, the repository with an empty stack, and the repository with
//! one pass-through layer. The ratios of their medians are in `docs/BENCHMARKS.md`
//! (`benches/insert_ratio.rs` measures them interleaved, which is what the doc records).

use criterion::{Criterion, criterion_group, criterion_main};
use repo_core::Repo;
use sea_orm::ActiveModelTrait;

#[path = "support/mod.rs"]
mod support;

use support::measure::{new_note, notes_db};
#[path = "support/pass_through.rs"]
mod pass_through;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let db = rt.block_on(notes_db(dir.path()));
    let empty = Repo::new(db.clone());
    let layered = Repo::builder(db.clone())
        .layer(pass_through::PassThrough)
        .build();

    let mut group = c.benchmark_group("insert");
    group.bench_function("raw_sea_orm", |b| {
        b.to_async(&rt)
            .iter(|| async { new_note().insert(&db).await.expect("insert") })
    });
    group.bench_function("repo_empty_stack", |b| {
        b.to_async(&rt)
            .iter(|| async { empty.insert(new_note()).await.expect("insert") })
    });
    group.bench_function("repo_pass_through_layer", |b| {
        b.to_async(&rt)
            .iter(|| async { layered.insert(new_note()).await.expect("insert") })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
