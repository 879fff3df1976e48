//! The allowlist's cases: every allowed shape, every refusal, and no panic on any input.

mod bounds;
mod cte;
mod messages;
mod postgres;
mod statements;

use std::thread;

/// Runs `check` on a thread with a 2 MiB stack (a typical worker thread's), so a deep
/// recursion shows up as a crash rather than passing on the test harness's larger stack.
pub(super) fn on_small_stack<T: Send + 'static>(check: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(check)
        .expect("spawn a thread");
    match handle.join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
