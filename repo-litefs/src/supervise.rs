//! `supervised`: a background task that outlives a panic of its own.
//!
//! The tracker, the ledger pruner and the group committer run for the node's whole life; a
//! panic in one of them (a bug, or input nobody foresaw) must not leave the node without a
//! view of the primary or without pruning until restart. A supervised task that panics is
//! logged, counted in `litefs_task_panics_total{task}` and started again after a pause that
//! grows from 100 ms to 10 s while it keeps panicking.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;

/// Spawns the future `start` makes, and makes and spawns it again each time it panics; the
/// task ends when one run returns.
pub(crate) fn supervised<F, Fut>(task: &'static str, start: F) -> tokio::task::JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(100);
        while AssertUnwindSafe(start()).catch_unwind().await.is_err() {
            metrics::counter!("litefs_task_panics_total", "task" => task).increment(1);
            tracing::error!(task, restart_in = ?pause, "a background task panicked; restarting it");
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(10));
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_restarted_until_it_returns() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        let handle = supervised("test", move || {
            let runs = counted.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) < 3 {
                    panic!("a bug");
                }
            }
        });
        handle.await.expect("the supervisor itself never panics");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            4,
            "three panics, then a clean run"
        );
    }
}
