//! Every refusal of the forwarding server: the status, the typed reason a replica gets,
//! the message, and that nothing was written. (Refusals decided on the replica itself:
//! `forward_refusals_local.rs`.)

use prost::Message;
use repo_core::{
    Action, BatchStep, NamedPart, Operation, RejectReason, RepoError, Request, StatementRule,
    StepOperation, TooLarge,
};
use repo_litefs::convert::{encode_request, error_from_status};
use repo_litefs::proto as pb;
use repo_tests::cluster::{Cluster, SECRET};
use repo_tests::requests::insert_tag;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, Statement};
use tonic::{Code, Status};

use blog_example::entities::tag;

async fn call(
    addr: std::net::SocketAddr,
    secret: Option<&str>,
    message: pb::ForwardRequest,
) -> Result<pb::ForwardResponse, Status> {
    let mut client = pb::forwarder_client::ForwarderClient::connect(format!("http://{addr}"))
        .await
        .expect("connect")
        .max_encoding_message_size(64 * 1024 * 1024);
    let mut request = tonic::Request::new(message);
    if let Some(secret) = secret {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {secret}").parse().expect("ascii"),
        );
    }
    client
        .execute(request)
        .await
        .map(tonic::Response::into_inner)
}

fn details(status: &Status) -> Option<pb::forward_error::Error> {
    pb::ForwardError::decode(status.details())
        .ok()
        .and_then(|e| e.error)
}

/// The reason of a `Rejected` error; fails the test on any other error.
fn reason(err: RepoError) -> RejectReason {
    match err {
        RepoError::Rejected { reason } => reason,
        other => panic!("not a refusal: {other:?}"),
    }
}

async fn tag_count(cluster: &Cluster) -> u64 {
    tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count")
}

#[tokio::test]
async fn an_accepted_request_writes_once() {
    let cluster = Cluster::start(1).await;
    let message = encode_request(&insert_tag("ok"), "test").expect("encode");
    call(cluster.primary().addr, Some(SECRET), message)
        .await
        .expect("accepted");
    assert_eq!(tag_count(&cluster).await, 1);
}

#[tokio::test]
async fn unauthenticated_callers_are_refused() {
    let cluster = Cluster::start(1).await;
    let message = encode_request(&insert_tag("x"), "test").expect("encode");
    let status = call(cluster.primary().addr, None, message.clone())
        .await
        .expect_err("no secret");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert!(
        status.message().contains("missing cluster secret"),
        "{}",
        status.message()
    );
    let status = call(
        cluster.primary().addr,
        Some("wrong-secret-wrong-secret"),
        message,
    )
    .await
    .expect_err("wrong");
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "wrong cluster secret");
    assert_eq!(
        reason(error_from_status(&status, "node-1").await),
        RejectReason::Unauthenticated
    );
    assert_eq!(tag_count(&cluster).await, 0);
}

#[tokio::test]
async fn a_replica_refuses_and_names_the_primary() {
    let cluster = Cluster::start(1).await;
    let message = encode_request(&insert_tag("x"), "test").expect("encode");
    let status = call(cluster.replica(1).addr, Some(SECRET), message)
        .await
        .expect_err("not primary");
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("node-1"), "{}", status.message());
    assert!(
        matches!(details(&status), Some(pb::forward_error::Error::NotPrimary(pb::NotPrimary { primary: Some(ref p) })) if p == "node-1")
    );
    assert_eq!(tag_count(&cluster).await, 0);
}

#[tokio::test]
async fn statements_that_are_not_a_single_data_change_are_refused() {
    let cluster = Cluster::start(1).await;
    let replica = &cluster.replica(1).repo;
    for (sql, rule) in [
        ("DROP TABLE tags", StatementRule::NotDataChanging),
        (
            "CREATE TABLE evil (x INTEGER)",
            StatementRule::NotDataChanging,
        ),
        (
            "ALTER TABLE tags ADD COLUMN evil TEXT",
            StatementRule::NotDataChanging,
        ),
        ("PRAGMA writable_schema = 1", StatementRule::NotDataChanging),
        (
            "ATTACH DATABASE '/tmp/evil.db' AS evil",
            StatementRule::NotDataChanging,
        ),
        ("VACUUM", StatementRule::NotDataChanging),
        (
            "INSERT INTO tags (name) VALUES ('a'); DELETE FROM tags",
            StatementRule::SeveralStatements,
        ),
        (
            "INSERT INTO tags (name) SELECT load_extension('evil')",
            StatementRule::ForbiddenFunction,
        ),
        ("DELETE FROM litefs_ledger", StatementRule::ReservedTable),
    ] {
        // Through sea-orm's API: the refusal in words.
        let err = replica.execute_unprepared(sql).await.expect_err(sql);
        assert!(
            err.to_string().contains("refused by the primary"),
            "{sql}: {err}"
        );
        // Through the repository: typed, the same rule the primary's allowlist applied.
        let request = Request::new(
            Action::Execute,
            "tags",
            Operation::Execute(Statement::from_string(DbBackend::Sqlite, sql)),
        );
        let err = replica
            .call(request, &Default::default())
            .await
            .expect_err(sql);
        assert!(!err.is_transient(), "{sql}: a refusal is final");
        match reason(err) {
            RejectReason::Statement(s) => {
                assert_eq!(s.rule, rule, "{sql}: {}", s.message);
                assert_eq!(s.step, None);
                assert!(!s.message.is_empty());
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
    let tables = cluster
        .primary()
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'evil'",
        ))
        .await
        .expect("schema");
    assert!(tables.is_empty(), "no table was created");
    assert_eq!(tag_count(&cluster).await, 0);
}

fn step(name: &str, sql: &str) -> BatchStep {
    BatchStep {
        name: name.into(),
        operation: StepOperation::Execute(Statement::from_string(DbBackend::Sqlite, sql)),
        require_row: false,
    }
}

#[tokio::test]
async fn a_batch_names_the_step_it_refused_and_its_limits() {
    let cluster = Cluster::start(1).await;
    let replica = &cluster.replica(1).repo;
    let batch = |steps| Request::new(Action::Multi, "multi", Operation::Batch(steps));
    let steps = vec![
        step("ok", "INSERT INTO tags (name) VALUES ('a')"),
        step("evil", "DROP TABLE tags"),
    ];
    let err = replica.call(batch(steps), &Default::default()).await;
    match reason(err.expect_err("refused")) {
        RejectReason::Statement(s) => {
            assert_eq!(s.rule, StatementRule::NotDataChanging);
            assert_eq!(s.step.as_deref(), Some("evil"));
        }
        other => panic!("{other:?}"),
    }
    let long: Vec<_> = (0..1_001)
        .map(|i| step(&format!("s{i}"), "INSERT INTO tags (name) VALUES ('a')"))
        .collect();
    let err = replica.call(batch(long), &Default::default()).await;
    assert_eq!(
        reason(err.expect_err("too long")),
        RejectReason::TooLarge(TooLarge::BatchSteps {
            steps: 1_001,
            limit: 1_000
        })
    );
    let bad_name = vec![step("a\nforged", "INSERT INTO tags (name) VALUES ('a')")];
    let err = replica.call(batch(bad_name), &Default::default()).await;
    assert_eq!(
        reason(err.expect_err("bad name")),
        RejectReason::InvalidName {
            part: NamedPart::Step,
            bytes: 8,
            limit: 128
        }
    );
    assert_eq!(tag_count(&cluster).await, 0);
}

#[tokio::test]
async fn an_unknown_transaction_is_refused() {
    let cluster = Cluster::start(1).await;
    let request = Request::new(
        Action::Transaction("nope.v1".into()),
        "nope.v1",
        Operation::Transaction {
            name: "nope.v1".into(),
            args: b"null".to_vec(),
        },
    );
    let err = cluster
        .replica(1)
        .repo
        .call(request.clone(), &Default::default())
        .await
        .expect_err("unknown");
    assert!(
        matches!(err, RepoError::UnknownTransaction(ref n) if n == "nope.v1"),
        "{err:?}"
    );
    let status = call(
        cluster.primary().addr,
        Some(SECRET),
        encode_request(&request, "t").expect("encode"),
    )
    .await
    .expect_err("unknown");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("nope.v1"));
}

#[tokio::test]
async fn oversized_messages_are_refused() {
    let cluster = Cluster::start(1).await;
    let huge = "x".repeat(5 * 1024 * 1024);
    let message = encode_request(&insert_tag(&huge), "test").expect("encode");
    let status = call(cluster.primary().addr, Some(SECRET), message)
        .await
        .expect_err("too big");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(
        status.message().contains("too large"),
        "{}",
        status.message()
    );
    // A replica's write gets the typed reason.
    let err = cluster
        .replica(1)
        .repo
        .call(insert_tag(&huge), &Default::default())
        .await
        .expect_err("too big");
    assert_eq!(reason(err), RejectReason::TooLarge(TooLarge::Message));
    assert_eq!(tag_count(&cluster).await, 0);
}

#[tokio::test]
async fn an_expired_deadline_is_refused() {
    let cluster = Cluster::start(1).await;
    let mut message = encode_request(&insert_tag("late"), "test").expect("encode");
    message.timeout_ms = Some(0);
    let status = call(cluster.primary().addr, Some(SECRET), message)
        .await
        .expect_err("expired");
    assert_eq!(status.code(), Code::DeadlineExceeded);
    assert!(
        matches!(details(&status), Some(pb::forward_error::Error::Timeout(c)) if c == pb::CommitState::NotCommitted as i32)
    );
    assert_eq!(tag_count(&cluster).await, 0);
}

#[tokio::test]
async fn malformed_messages_are_refused() {
    let cluster = Cluster::start(1).await;
    let mut message = encode_request(&insert_tag("m"), "test").expect("encode");
    message.request_id = vec![1, 2, 3];
    let status = call(cluster.primary().addr, Some(SECRET), message)
        .await
        .expect_err("malformed");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("request_id"),
        "{}",
        status.message()
    );
    let empty = pb::ForwardRequest {
        request_id: vec![0; 16],
        action: pb::Action::Insert as i32,
        ..Default::default()
    };
    let status = call(cluster.primary().addr, Some(SECRET), empty)
        .await
        .expect_err("no operation");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(tag_count(&cluster).await, 0);
}
