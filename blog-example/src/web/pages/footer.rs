//! Every page's footer: which node served it, in which role, and which node is the primary.

use crate::web::{AppState, escape};

/// `served by node-2 (replica) · primary node-1`; the node is asked on the blocking pool
/// (its source may read LiteFS's `.lag`).
pub(super) async fn footer(state: &AppState) -> String {
    let node = state.node.clone();
    let Ok(info) = tokio::task::spawn_blocking(move || node.current()).await else {
        return String::new();
    };
    let primary = info.primary.map_or_else(
        || "no primary known".to_owned(),
        |p| format!("primary {}", escape(&p)),
    );
    format!(
        "<footer id=\"served-by\">served by <strong>{node}</strong> ({role}) · {primary}</footer>",
        node = escape(&info.node),
        role = info.role.label(),
    )
}
