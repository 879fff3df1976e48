//! The files LiteFS serves in its mount, written whole: `<db>-pos`, `.lag`, `.primary`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::state::Shared;

/// `<db>-pos` in LiteFS's format: TXID and post-apply checksum, 16 hex digits each.
pub(super) fn write_pos(path: &Path, txid: u64) -> std::io::Result<()> {
    let checksum = txid.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    write_whole(path, format!("{txid:016x}/{checksum:016x}\n").as_bytes())
}

/// How often a connected replica hears from the primary (LiteFS's heartbeat interval).
const HEARTBEAT: Duration = Duration::from_secs(1);

/// How often `.lag` files are rewritten.
const LAG_REFRESH: Duration = Duration::from_millis(100);

/// Keeps every node's `.lag` current: 0 on the primary; on a replica, the time since it last
/// heard from the primary, which a heartbeat resets every second unless the replica is
/// partitioned or stopped.
pub(super) async fn report_lag(shared: Arc<Shared>) {
    let mut heard: HashMap<String, Instant> = HashMap::new();
    let mut last_beat: Option<Instant> = None;
    let mut tick = tokio::time::interval(LAG_REFRESH);
    loop {
        tick.tick().await;
        let Some((primary, cut_off)) = shared.reach() else {
            return;
        };
        let now = Instant::now();
        let beat = last_beat.is_none_or(|at| now.duration_since(at) >= HEARTBEAT);
        if beat {
            last_beat = Some(now);
        }
        for node in &shared.nodes {
            let at = heard.entry(node.name.clone()).or_insert(now);
            if node.name == primary || (beat && !cut_off.contains(&node.name)) {
                *at = now;
            }
            let _ = write_lag(&node.dir.join(".lag"), now.duration_since(*at));
        }
    }
}

/// `.lag` in LiteFS's format: `%+010d\n` milliseconds, capped below LiteFS's
/// "not yet synced" value (`2147483647`).
pub(super) fn write_lag(path: &Path, lag: Duration) -> std::io::Result<()> {
    let ms = i64::try_from(lag.as_millis()).map_or(i64::from(i32::MAX) - 1, |ms| {
        ms.min(i64::from(i32::MAX) - 1)
    });
    write_whole(path, format!("{ms:+010}\n").as_bytes())
}

/// Replaces `path`'s content through a rename, so that a reader never sees a half-written
/// file (LiteFS serves `.primary`, `<db>-pos` and `.lag` from memory, whole).
pub(super) fn write_whole(path: &Path, content: &[u8]) -> std::io::Result<()> {
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut fresh = path.as_os_str().to_owned();
    fresh.push(format!(".new{n}"));
    std::fs::write(&fresh, content)?;
    std::fs::rename(fresh, path)
}
