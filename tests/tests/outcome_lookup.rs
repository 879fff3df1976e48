//! Outcome lookups (`Node::outcome`): what became of a write, by its request id, asked from
//! any node: committed with its answer, unknown, or — settled — not committed, for good.

use std::time::Duration;

use repo_core::{Outcome, RejectReason, RepoError, RequestId};
use repo_litefs::ledger::WriteOutcome;
use repo_tests::cluster::Cluster;
use repo_tests::interactive::replica_through;
use repo_tests::proxy::Proxy;
use repo_tests::requests::insert_tag;
use sea_orm::{EntityTrait, PaginatorTrait};

use blog_example::entities::tag;

async fn tags(cluster: &Cluster) -> u64 {
    tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_committed_write_is_found_with_its_answer_from_every_node() {
    let cluster = Cluster::start(1).await;
    let request = insert_tag("committed");
    let id = request.id;
    let answer = cluster
        .replica(1)
        .repo
        .call(request, &Default::default())
        .await
        .expect("write");
    for node in &cluster.nodes {
        let outcome = node.node.outcome(id, false).await.expect("lookup");
        assert_eq!(
            outcome,
            WriteOutcome::Committed(answer.clone()),
            "{}",
            node.name
        );
        // Settling a committed write changes nothing.
        let settled = node.node.outcome(id, true).await.expect("lookup");
        assert_eq!(settled, WriteOutcome::Committed(answer.clone()));
    }
}

#[tokio::test]
async fn an_unknown_write_is_unknown_until_settled_and_then_never_runs() {
    let cluster = Cluster::start(1).await;
    let id = RequestId::new();
    let replica = &cluster.replica(1).node;
    assert_eq!(
        replica.outcome(id, false).await.expect("lookup"),
        WriteOutcome::Unknown
    );
    assert_eq!(
        replica.outcome(id, true).await.expect("settle"),
        WriteOutcome::NotCommitted
    );
    assert_eq!(
        cluster
            .primary()
            .node
            .outcome(id, false)
            .await
            .expect("lookup"),
        WriteOutcome::NotCommitted,
        "settled for good"
    );
    // A late attempt of that write is refused and writes nothing.
    let mut late = insert_tag("late");
    late.id = id;
    let err = cluster
        .replica(1)
        .repo
        .call(late, &Default::default())
        .await
        .expect_err("abandoned");
    assert!(
        matches!(
            err,
            RepoError::Rejected {
                reason: RejectReason::Abandoned
            }
        ),
        "{err:?}"
    );
    assert_eq!(tags(&cluster).await, 0);
}

#[tokio::test]
async fn a_write_that_rolled_back_is_unknown_then_settles_as_not_committed() {
    let cluster = Cluster::start(1).await;
    cluster
        .replica(1)
        .repo
        .call(insert_tag("taken"), &Default::default())
        .await
        .expect("first");
    let failing = insert_tag("taken");
    let id = failing.id;
    let err = cluster
        .replica(1)
        .repo
        .call(failing, &Default::default())
        .await
        .expect_err("unique violation");
    assert!(matches!(err, RepoError::Database(_)), "{err:?}");
    let replica = &cluster.replica(1).node;
    assert_eq!(
        replica.outcome(id, false).await.expect("lookup"),
        WriteOutcome::Unknown
    );
    assert_eq!(
        replica.outcome(id, true).await.expect("settle"),
        WriteOutcome::NotCommitted
    );
    assert_eq!(tags(&cluster).await, 1);
}

/// A forwarded write whose answer is lost after it committed (the reply held, then the
/// connection cut) is answered from the primary's ledger by the forwarding layer itself:
/// no retry layer here, nothing sent again, one row.
#[tokio::test]
async fn a_lost_answer_is_recovered_from_the_ledger_not_sent_again() {
    let cluster = Cluster::start(1).await;
    let proxy = Proxy::start(cluster.primary().addr).await;
    let replica = replica_through(&cluster, proxy.addr);
    proxy.hold_replies(true);
    let call = tokio::spawn(async move {
        replica
            .call(insert_tag("recovered"), &Default::default())
            .await
    });
    for _ in 0..400 {
        if tags(&cluster).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(
        tags(&cluster).await,
        1,
        "the write committed on the primary"
    );
    proxy.reset();
    let answer = call
        .await
        .expect("joined")
        .expect("the recorded answer, not a lost connection");
    assert!(
        matches!(answer.outcome, Outcome::Executed(s) if s.rows_affected == 1),
        "{answer:?}"
    );
    assert_eq!(tags(&cluster).await, 1);
}
