//! Exactly once under a retried request id.

use repo_core::{IdempotencyKey, RepoError};

use super::tags_on;
use crate::backends::BackendCluster;
use crate::write_script::new_tag;

/// A write sent twice under one idempotency key runs once and both calls get its answer;
/// the same key with another payload is refused and writes nothing.
pub async fn a_retried_request_id_writes_once<B: BackendCluster>(cluster: &B) {
    let replica = cluster.replica();
    let key = || IdempotencyKey::new("suite-order-1").expect("key");
    let first = replica
        .insert(new_tag("once"))
        .idempotency_key(key())
        .await
        .unwrap_or_else(|e| panic!("{}: first attempt: {e}", B::NAME));
    let again = replica
        .insert(new_tag("once"))
        .idempotency_key(key())
        .await
        .unwrap_or_else(|e| panic!("{}: the retry: {e}", B::NAME));
    assert_eq!(first, again, "{}: the retry gets the first answer", B::NAME);
    assert_eq!(tags_on(cluster.primary_db()).await, 1, "{}", B::NAME);
    let other = replica
        .insert(new_tag("another"))
        .idempotency_key(key())
        .await
        .expect_err("the same key with another payload");
    assert!(
        matches!(other, RepoError::IdempotencyConflict),
        "{}: {other:?}",
        B::NAME
    );
    assert_eq!(tags_on(cluster.primary_db()).await, 1, "{}", B::NAME);
}
