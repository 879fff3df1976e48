//! Interactive transactions on real LiteFS (issue 16): the same transaction from a replica
//! as an interactive one, as a named one, and under LiteFS's HALT lock; and what open
//! interactive transactions cost every other writer.
//!
//! Three `litefs mount` processes on 127.0.0.1 (static lease, node-1 primary), the
//! repository stack on each (`repo_tests::real_litefs`). The transaction is
//! `create_post_with_tags.v1`'s statements (insert a post, insert its tag, read the tag
//! back, link them: three writes and a read), from replica node-2, each variant readable on
//! node-2 when it returns:
//! - `interactive`: `repo.begin()`, the four statements, `commit()`: held on node-1 over one
//!   gRPC stream, node-1's write lock held from `begin` to the commit;
//! - `named`: `repo.transaction::<CreatePostWithTags>(args)`: one round trip, the lock held
//!   only while it runs on node-1;
//! - `HALT`: plain sea-orm `begin`/`commit` on node-2's own file while holding LiteFS's HALT
//!   lock, taken and released around each transaction.
//!
//! Each repetition runs `ROUNDS` transactions per variant, interleaved one by one with the
//! order rotating every round; `REPS` repetitions. Then single forwarded inserts from 8
//! writers (4 on node-2, 4 on node-3) for `SECONDS` while 0, 1, 4 and 16 tasks run
//! interactive transactions back to back (from node-2 and node-3 in turn), the four levels
//! in rotating order, `REPS` times. Reported: per repetition p50, and min–max over them.
//!
//! Run: `LITEFS_BIN=/root/go/bin/litefs cargo bench -p repo-tests --bench
//! interactive_litefs` (`REPS=5 ROUNDS=60 SECONDS=3` by default). Needs LiteFS and FUSE as
//! the tests do; without them it says so and exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use blog_example::entities::{post, post_tag, tag};
use blog_example::transactions::{CreatePostWithTags, NewPost};
use repo_core::Repo;
use repo_tests::real_litefs::{DB, HaltLock, LiteFsCluster, Stacks, open_for_halt};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, NotSet,
    QueryFilter, Set, TransactionSession, TransactionTrait,
};

#[path = "../../repo-core/benches/support/mod.rs"]
mod support;

use support::measure::{Spread, env_count, load_average};

/// `create_post_with_tags.v1`'s statements, on any connection.
async fn statements<C: ConnectionTrait>(c: &C, slug: &str) -> Result<(), DbErr> {
    let post = post::ActiveModel {
        title: Set(format!("Title {slug}")),
        slug: Set(slug.to_owned()),
        body: Set("body".to_owned()),
        ..Default::default()
    }
    .insert(c)
    .await?;
    tag::Entity::insert_many([tag::ActiveModel {
        id: NotSet,
        name: Set(slug.to_owned()),
    }])
    .on_conflict_do_nothing_on([tag::Column::Name])
    .exec(c)
    .await?;
    let tags = tag::Entity::find()
        .filter(tag::Column::Name.is_in([slug]))
        .all(c)
        .await?;
    let links = tags.iter().map(|t| post_tag::ActiveModel {
        post_id: Set(post.id),
        tag_id: Set(t.id),
    });
    post_tag::Entity::insert_many(links).exec(c).await?;
    Ok(())
}

/// One interactive transaction from `repo`: (whole call, lock surely held: from `begin`'s
/// answer to the commit's sending).
async fn interactive(repo: &Repo, slug: &str) -> Result<(Duration, Duration), DbErr> {
    let started = Instant::now();
    let txn = repo.begin().await?;
    let opened = Instant::now();
    statements(&txn, slug).await?;
    let committing = Instant::now();
    txn.commit().await?;
    Ok((started.elapsed(), committing - opened))
}

#[derive(Clone)]
enum Variant {
    Interactive(Repo),
    Named(Repo),
    Halt(DatabaseConnection, Arc<HaltLock>),
}

impl Variant {
    fn label(&self) -> &'static str {
        match self {
            Variant::Interactive(_) => "interactive (begin, 4 statements, commit)",
            Variant::Named(_) => "named (create_post_with_tags.v1)",
            Variant::Halt(..) => "HALT lock (LiteFS), local begin/commit",
        }
    }

    /// One transaction: its latency, and for the interactive one the lock's surely-held time.
    async fn run(&self, slug: String) -> (Duration, Option<Duration>) {
        let started = Instant::now();
        match self {
            Variant::Interactive(repo) => {
                let (took, held) = interactive(repo, &slug).await.expect("interactive");
                return (took, Some(held));
            }
            Variant::Named(repo) => {
                repo.transaction::<CreatePostWithTags>(NewPost {
                    title: format!("Title {slug}"),
                    slug: slug.clone(),
                    body: "body".to_owned(),
                    tags: vec![slug],
                })
                .await
                .expect("named");
            }
            Variant::Halt(db, lock) => {
                lock.acquire_within(Duration::from_secs(60))
                    .await
                    .expect("halt lock");
                let txn = db.begin().await.expect("begin");
                statements(&txn, &slug).await.expect("statements");
                txn.commit().await.expect("commit");
                lock.release().expect("release");
            }
        }
        (started.elapsed(), None)
    }
}

fn p50(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// Single forwarded writes per second from 8 writers while `open` tasks run interactive
/// transactions back to back; with the transactions committed and failed.
async fn throughput(replicas: &[Repo; 2], open: usize, seconds: u64, run: u64) -> (f64, u64, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let (writes, txns, failed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (repo, stop, writes, failed) = (
            replicas[w % 2].clone(),
            stop.clone(),
            writes.clone(),
            failed.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let am = tag::ActiveModel {
                    name: Set(format!("single-{run}-{open}-{w}-{n}")),
                    ..Default::default()
                };
                match repo.insert(am).await {
                    Ok(_) => writes.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
                n += 1;
            }
        }));
    }
    for t in 0..open {
        let (repo, stop, txns) = (replicas[t % 2].clone(), stop.clone(), txns.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                if interactive(&repo, &format!("bg-{run}-{open}-{t}-{n}"))
                    .await
                    .is_ok()
                {
                    txns.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("task");
    }
    let elapsed = started.elapsed().as_secs_f64();
    (
        writes.load(Ordering::Relaxed) as f64 / elapsed,
        txns.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (reps, rounds, seconds) = (
        env_count("REPS", 5),
        env_count("ROUNDS", 60),
        env_count("SECONDS", 3),
    );
    let Some(cluster) = LiteFsCluster::start_or_skip(&["node-1", "node-2", "node-3"]).await else {
        return;
    };
    let stacks = Stacks::start(&cluster).await;
    println!("load average before: {}", load_average().trim());
    let replica = &cluster.nodes[1];
    let halt_db = open_for_halt(replica).await;
    let lock = Arc::new(HaltLock::open(&replica.mount, DB).expect("lock file"));
    let repo = stacks.node("node-2").repo.clone();
    let variants = [
        Variant::Interactive(repo.clone()),
        Variant::Named(repo),
        Variant::Halt(halt_db.clone(), lock),
    ];
    for n in 0..10 {
        for (i, v) in variants.iter().enumerate() {
            v.run(format!("warm-{i}-{n}")).await;
        }
    }
    let mut p50s = vec![Vec::new(); variants.len()];
    let mut held = Vec::new();
    for rep in 0..reps {
        let mut samples = vec![Vec::new(); variants.len()];
        let mut rep_held = Vec::new();
        for round in 0..rounds {
            for k in 0..variants.len() {
                let i = (usize::try_from(round).unwrap_or(0) + k) % variants.len();
                let (took, h) = variants[i].run(format!("r{rep}-{i}-{round}")).await;
                samples[i].push(took);
                rep_held.extend(h);
            }
        }
        let line: Vec<String> = samples
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let p = p50(s);
                p50s[i].push(p);
                format!("{p:.2}")
            })
            .collect();
        let h = p50(rep_held);
        held.push(h);
        println!(
            "rep {rep}: p50 ms interactive/named/HALT = {} (lock held >= {h:.2})",
            line.join(" / ")
        );
    }
    println!("\n{rounds} transactions per variant per repetition, {reps} repetitions:");
    println!("| variant (from node-2) | p50 per repetition, min–max |\n| --- | --- |");
    for (v, p) in variants.iter().zip(&p50s) {
        println!("| {} | {} ms |", v.label(), Spread::of(p.to_vec()).show(2));
    }
    let ratio = |a: usize, b: usize| -> Vec<f64> {
        p50s[a].iter().zip(&p50s[b]).map(|(x, y)| x / y).collect()
    };
    println!(
        "interactive/named p50: {}; interactive/HALT p50: {}",
        Spread::of(ratio(0, 1)).show(2),
        Spread::of(ratio(0, 2)).show(2)
    );
    println!(
        "node-1's write lock held by an interactive transaction (begin's answer to the commit's sending), p50: {} ms",
        Spread::of(held.clone()).show(2)
    );

    let replicas = [
        stacks.node("node-2").repo.clone(),
        stacks.node("node-3").repo.clone(),
    ];
    let levels = [0_usize, 1, 4, 16];
    let mut rates = vec![Vec::new(); levels.len()];
    let mut committed = vec![Vec::new(); levels.len()];
    let mut failures = 0;
    for rep in 0..reps {
        for k in 0..levels.len() {
            let i = (usize::try_from(rep).unwrap_or(0) + k) % levels.len();
            let (rate, txns, failed) =
                throughput(&replicas, levels[i], seconds, rep * 10 + i as u64).await;
            rates[i].push(rate);
            committed[i].push(txns as f64);
            failures += failed;
        }
    }
    println!(
        "\nsingle forwarded writes/s (8 writers, {seconds} s, {reps} repetitions) while interactive transactions run:"
    );
    println!(
        "| open interactive transactions | single writes/s, min–max | transactions committed per run |\n| --- | --- | --- |"
    );
    for (i, open) in levels.iter().enumerate() {
        println!(
            "| {open} | {} | {} |",
            Spread::of(rates[i].clone()).show(2),
            Spread::of(committed[i].clone()).show(2)
        );
    }
    println!("single writes that failed: {failures}");
    println!("load average after: {}", load_average().trim());
    drop(variants);
    let _ = halt_db.close().await;
    stacks.close().await;
    cluster.shutdown().await;
}
