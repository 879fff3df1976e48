//! Read your writes over 1,000 forwarded writes.

use blog_example::entities::tag;

use super::tags_on;
use crate::backends::BackendCluster;
use crate::write_script::new_tag;

/// 1,000 writes through the replica, each read back there at once (every backend's
/// replica lags its primary), and each on the primary once.
pub async fn a_thousand_writes_are_each_read_back<B: BackendCluster>(cluster: &B) {
    let replica = cluster.replica();
    let mut misses = 0;
    for i in 0..1000 {
        let written = replica
            .insert(new_tag(&format!("ryw-{i}")))
            .await
            .unwrap_or_else(|e| panic!("{}: write {i}: {e}", B::NAME));
        if replica.get::<tag::Entity>(written.id).await.expect("read") != Some(written) {
            misses += 1;
        }
    }
    assert_eq!(misses, 0, "{}: read-your-writes misses", B::NAME);
    assert_eq!(tags_on(cluster.primary_db()).await, 1000, "{}", B::NAME);
}
