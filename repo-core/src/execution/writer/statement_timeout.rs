//! `StatementTimeout`: on PostgreSQL, the writer's budget as the server's own
//! `statement_timeout`, set for one transaction (`SET LOCAL`).
//!
//! PostgreSQL has no progress handler: only the server stops a statement it is running.
//! So a write whose turn has a deadline runs in a transaction that starts with
//! `SET LOCAL statement_timeout = '<ms>ms'`, the time left to that deadline; the server
//! cancels a statement still running then (SQLSTATE 57014, `query_canceled`), the
//! transaction rolls back, and the write fails definitively. The connection's own
//! `statement_timeout` (set by `repo_postgres::connect`) stays the upper bound: a deadline
//! further away leaves it as it is. A `statement_timeout` bounds each statement, not the
//! transaction, so the writer also stops waiting for the write at the same instant
//! ([`ServerLimit::expires`], `Turn::within`).
//!
//! A call's deadline is also when its caller stops waiting (the timeout layer answers
//! "may have committed" then), so a call's write is given its deadline less a margin
//! ([`answer_by`]): the writer's definitive answer reaches the caller first.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement};
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// The longest part of a call's remaining time left for the answer to travel back: a
/// call's write is given its deadline less a tenth of the time left, at most this much (as
/// the durability gate of `repo-litefs` does for its wait).
pub(crate) const ANSWER_MARGIN: Duration = Duration::from_millis(100);

/// When a call's write must be over for its answer to reach the caller before `deadline`.
pub(crate) fn answer_by(deadline: Instant) -> Instant {
    let left = deadline.saturating_duration_since(Instant::now());
    deadline - (left / 10).min(ANSWER_MARGIN)
}

/// The time a write is given for `left` of budget, in whole milliseconds (never 0, which
/// would turn a statement timeout off), and whether it is below the connection's own
/// `statement_timeout` of `cap_ms` (0: none), so that it must be set on the server.
fn limit_ms(left: Duration, cap_ms: u64) -> (u64, bool) {
    let ms = u64::try_from(left.as_millis()).unwrap_or(u64::MAX).max(1);
    (ms, cap_ms == 0 || ms < cap_ms)
}

/// The bound of one write: over at `expires`, the statement it runs then cancelled by the
/// server (by this bound when `lowered`, by the connection's own `statement_timeout`
/// otherwise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServerLimit {
    /// The time the write was given, from when the bound was set.
    pub(crate) limit: Duration,
    /// When the bound was set, plus `limit`: no statement that started after it was set is
    /// cancelled by it before, so a cancellation seen then or later is the bound's.
    pub(crate) expires: Instant,
    /// Whether `limit` is the transaction's `statement_timeout` (it is below the
    /// connection's own).
    pub(crate) lowered: bool,
}

/// The PostgreSQL writer's statement timeout (see the module docs); shared by its turns.
#[derive(Debug, Default)]
pub(crate) struct StatementTimeout {
    /// The connection's own `statement_timeout` in milliseconds (0: none), read once, on
    /// the first bounded write: the upper bound no deadline raises. Every connection of a
    /// `repo_postgres::connect` pool has the same.
    cap_ms: OnceCell<u64>,
}

impl StatementTimeout {
    /// Bounds the statements `txn` runs from now on by `until`, never beyond the
    /// connection's own `statement_timeout`; `None` without `until`. `lowered`: an earlier
    /// bound of this transaction set it lower, and it is set back where `until` does not
    /// bind.
    pub(crate) async fn set(
        &self,
        txn: &DatabaseTransaction,
        until: Option<Instant>,
        lowered: bool,
    ) -> Result<Option<ServerLimit>, DbErr> {
        let cap_ms = *self.cap_ms.get_or_try_init(|| read_cap(txn)).await?;
        let now = Instant::now();
        let limit = until.map(|u| limit_ms(u.saturating_duration_since(now), cap_ms));
        let set = match limit {
            Some((ms, true)) => Some(ms),
            Some((_, false)) | None => lowered.then_some(cap_ms),
        };
        if let Some(ms) = set {
            txn.execute_unprepared(&format!("SET LOCAL statement_timeout = '{ms}ms'"))
                .await?;
        }
        Ok(limit.map(|(ms, lowered)| {
            let limit = Duration::from_millis(ms);
            ServerLimit {
                limit,
                expires: now + limit,
                lowered,
            }
        }))
    }
}

/// The connection's own `statement_timeout` in milliseconds (`pg_settings` gives it in its
/// unit, ms), read before anything of this transaction changed it.
async fn read_cap(txn: &DatabaseTransaction) -> Result<u64, DbErr> {
    let row = txn
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("pg_settings has no statement_timeout".into()))?;
    let setting: String = row.try_get_by_index(0)?;
    setting
        .parse()
        .map_err(|_| DbErr::Custom(format!("unreadable statement_timeout: {setting}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connections_own_timeout_stays_the_upper_bound() {
        let s = Duration::from_secs;
        assert_eq!(limit_ms(s(1), 5000), (1000, true), "the deadline is nearer");
        assert_eq!(
            limit_ms(s(5), 5000),
            (5000, false),
            "equal: the connection's"
        );
        assert_eq!(
            limit_ms(s(60), 5000),
            (60_000, false),
            "the connection's is nearer"
        );
        assert_eq!(limit_ms(s(60), 0), (60_000, true), "no timeout of its own");
        assert_eq!(limit_ms(Duration::ZERO, 5000), (1, true), "never 0 (off)");
    }

    #[tokio::test(start_paused = true)]
    async fn a_calls_write_ends_a_tenth_before_its_deadline_at_most_the_margin() {
        let now = Instant::now();
        let near = now + Duration::from_millis(500);
        assert_eq!(answer_by(near), near - Duration::from_millis(50));
        let far = now + Duration::from_secs(60);
        assert_eq!(answer_by(far), far - ANSWER_MARGIN);
        let past = now - Duration::from_millis(1);
        assert_eq!(answer_by(past), past, "no time left, no margin");
    }
}
