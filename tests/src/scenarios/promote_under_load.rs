//! A promotion of the replica while it forwards a steady load of keyed writes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use blog_example::entities::comment;
use repo_core::{IdempotencyKey, Repo};
use sea_orm::{EntityTrait, Set};

use crate::backends::Promotable;
use crate::write_script::fixed_post;

/// Writers on the replica, each write a comment under its own key.
const WRITERS: usize = 3;
/// Writes per writer.
const WRITES: usize = 40;
/// Attempts of one write (same key each time) before it is given up.
const ATTEMPTS: usize = 200;
/// How long the writers keep trying at all (a broken promotion ends the test in this time
/// instead of `ATTEMPTS` times per write).
const GIVE_UP_AFTER: Duration = Duration::from_secs(60);

/// Writes `WRITES` comments from `repo`, each retried under its key until answered
/// (bounded, and not after [`GIVE_UP_AFTER`]); returns each key and whether it was acknowledged.
async fn writer(repo: Repo, w: usize, post_id: i32, done: Arc<AtomicUsize>) -> Vec<(String, bool)> {
    let give_up = Instant::now() + GIVE_UP_AFTER;
    let mut history = Vec::new();
    for i in 0..WRITES {
        let key = format!("w{w}-{i}");
        let mut acknowledged = false;
        for _ in 0..ATTEMPTS {
            if Instant::now() > give_up {
                break;
            }
            let comment = comment::ActiveModel {
                post_id: Set(post_id),
                author: Set("load".into()),
                body: Set(key.clone()),
                created_at: Set(chrono::NaiveDateTime::default()),
                ..Default::default()
            };
            let answer = repo
                .insert(comment)
                .idempotency_key(IdempotencyKey::new(&key).expect("key"))
                .timeout(Duration::from_secs(5))
                .await;
            if answer.is_ok() {
                acknowledged = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        history.push((key, acknowledged));
        done.fetch_add(1, Ordering::Relaxed);
    }
    history
}

/// The replica becomes the primary a quarter of the way into a load of keyed writes from
/// it: every write is acknowledged in the end, each exactly once on the new primary (a
/// retry across the promotion is answered by the ledger, forwarded or local), and the
/// replica's node then writes locally.
pub async fn a_promotion_under_load_loses_and_duplicates_nothing<B: Promotable>(cluster: &B) {
    let post = cluster
        .replica()
        .insert(fixed_post("load"))
        .await
        .expect("seed a post");
    let done = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| tokio::spawn(writer(cluster.replica().clone(), w, post.id, done.clone())))
        .collect();
    for _ in 0..600 {
        if done.load(Ordering::Relaxed) >= WRITERS * WRITES / 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.promote_replica().await;
    let mut history = Vec::new();
    for w in writers {
        history.extend(w.await.expect("a writer"));
    }

    let mut rows: HashMap<String, usize> = HashMap::new();
    for c in comment::Entity::find()
        .all(cluster.replica_db())
        .await
        .expect("comments on the new primary")
    {
        *rows.entry(c.body).or_default() += 1;
    }
    let unanswered: Vec<_> = history.iter().filter(|(_, ok)| !ok).collect();
    assert!(
        unanswered.is_empty(),
        "{}: writes never acknowledged: {unanswered:?}",
        B::NAME
    );
    let wrong: Vec<_> = history
        .iter()
        .filter(|(key, _)| rows.get(key).copied() != Some(1))
        .map(|(key, _)| (key, rows.get(key).copied().unwrap_or(0)))
        .collect();
    assert!(
        wrong.is_empty(),
        "{}: acknowledged writes lost (0) or duplicated (>1) on the new primary: {wrong:?}",
        B::NAME
    );
    assert_eq!(
        rows.values().sum::<usize>(),
        WRITERS * WRITES,
        "{}",
        B::NAME
    );
}
