//! Every page's footer, error pages included: which node served it, in which role, and
//! (when it is not this node) which node is the primary.

use repo_core::NodeRole;

use crate::web::{AppState, HealthInfo, escape};

/// The footer of a page served now by this node; the node is asked on the blocking pool
/// (its source may read LiteFS's `.lag`). Empty if that task fails.
pub(crate) async fn footer(state: &AppState) -> String {
    let node = state.node.clone();
    match tokio::task::spawn_blocking(move || node.current()).await {
        Ok(info) => render(&info),
        Err(e) => {
            tracing::warn!(error = %e, "the node information source failed; page without footer");
            String::new()
        }
    }
}

/// `served by node-1 (primary)` on the primary, `served by node-2 (replica · primary
/// node-1)` elsewhere: each node named once. The primary is named after the role whenever
/// it is another node (or none is known), whatever the role says.
fn render(info: &HealthInfo) -> String {
    let primary = match info.primary.as_deref() {
        Some(p) if p == info.node && info.role == NodeRole::Primary => String::new(),
        Some(p) => format!(" · primary {}", escape(p)),
        None => " · no primary known".to_owned(),
    };
    format!(
        "<footer id=\"served-by\">served by <strong>{node}</strong> ({role}{primary})</footer>",
        node = escape(&info.node),
        role = info.role.label(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lag::ReplicationLag;

    fn info(node: &str, role: NodeRole, primary: Option<&str>) -> HealthInfo {
        HealthInfo {
            node: node.to_owned(),
            role,
            primary: primary.map(str::to_owned),
            circuit: None,
            replication_lag: ReplicationLag::NoMountDir,
        }
    }

    fn text(info: &HealthInfo) -> String {
        render(info)
            .replace("<strong>", "")
            .replace("</strong>", "")
    }

    #[test]
    fn each_node_is_named_once() {
        let primary = text(&info("node-1", NodeRole::Primary, Some("node-1")));
        assert!(
            primary.contains(">served by node-1 (primary)<"),
            "{primary}"
        );
        assert_eq!(primary.matches("node-1").count(), 1, "{primary}");

        let replica = text(&info("node-2", NodeRole::Replica, Some("node-1")));
        assert!(
            replica.contains(">served by node-2 (replica · primary node-1)<"),
            "{replica}"
        );

        let lost = text(&info("node-3", NodeRole::Unknown, None));
        assert!(
            lost.contains(">served by node-3 (unknown · no primary known)<"),
            "{lost}"
        );
    }

    #[test]
    fn names_are_escaped() {
        let odd = render(&info("<n>", NodeRole::Replica, Some("\"p\"")));
        assert!(
            odd.contains("&lt;n&gt;") && odd.contains("&quot;p&quot;"),
            "{odd}"
        );
    }
}
