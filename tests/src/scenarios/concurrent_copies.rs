//! Exactly once when copies of one request race.

use repo_core::{Action, Operation, Response};
use sea_orm::{DbBackend, Statement};

use super::tags_on;
use crate::backends::BackendCluster;

/// Four copies of one request (one request id) sent at once through the replica, twenty
/// times: each request writes one row and every copy gets the same answer (the same
/// outcome; the position token that comes with it is read when each copy is answered, at or
/// after the commit, so it may differ between copies on PostgreSQL, whose WAL position
/// moves without commits).
pub async fn concurrent_copies_of_a_request_write_once<B: BackendCluster>(cluster: &B) {
    let backend = cluster.primary_db().get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "INSERT INTO tags (name) VALUES ($1)",
        _ => "INSERT INTO tags (name) VALUES (?)",
    };
    for round in 0..20 {
        let request = repo_core::Request::new(
            Action::Insert,
            "tags",
            Operation::Execute(Statement::from_sql_and_values(
                backend,
                sql,
                [format!("copy-{round}").into()],
            )),
        );
        let copies = (0..4).map(|_| {
            let (repo, request) = (cluster.replica().clone(), request.clone());
            tokio::spawn(async move { repo.call(request, &Default::default()).await })
        });
        let answers: Vec<Response> = futures::future::join_all(copies)
            .await
            .into_iter()
            .map(|r| {
                r.expect("join")
                    .unwrap_or_else(|e| panic!("{}: every copy is answered: {e}", B::NAME))
            })
            .collect();
        assert!(
            answers.windows(2).all(|w| w[0].outcome == w[1].outcome),
            "{}: every copy gets the same answer: {answers:?}",
            B::NAME
        );
    }
    assert_eq!(tags_on(cluster.primary_db()).await, 20, "{}", B::NAME);
}
