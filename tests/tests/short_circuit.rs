//! The stack short-circuits: a layer that answers by itself keeps the executor from
//! running; pass-through layers let a write execute exactly once.

use blog_example::entities::tag;
use repo_core::{ExecSummary, Outcome, Repo, Response};
use repo_tests::db;
use repo_tests::layers::{AnswerLayer, CountingLayer};
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};

fn new_tag(name: &str) -> tag::ActiveModel {
    tag::ActiveModel {
        name: Set(name.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_short_circuiting_layer_writes_nothing_locally() {
    let db = db::fresh().await;
    let answer = AnswerLayer {
        response: Response::new(Outcome::Executed(ExecSummary {
            rows_affected: 7,
            last_insert_id: 0,
        })),
    };
    let below = CountingLayer::default();
    let repo = Repo::builder(db.conn.clone())
        .layer(answer)
        .layer(below.clone())
        .build();

    let done = repo
        .delete_all(tag::Entity::delete_many())
        .await
        .expect("answered");
    assert_eq!(
        done.rows_affected, 7,
        "the answer is the layer's, not the database's"
    );
    let done = repo
        .update_all(
            tag::Entity::update_many()
                .col_expr(tag::Column::Name, sea_orm::sea_query::Expr::value("x")),
        )
        .await
        .expect("answered");
    assert_eq!(done.rows_affected, 7);
    assert_eq!(below.count(), 0, "nothing below the answering layer ran");

    // Through the drop-in path too; the insert's RETURNING gets an Executed answer and fails,
    // but nothing reaches the database either way.
    let _ = new_tag("never").insert(&repo).await;
    assert_eq!(below.count(), 0);
    assert_eq!(tag::Entity::find().count(&db.conn).await.expect("count"), 0);
}

#[tokio::test]
async fn pass_through_layers_execute_exactly_once() {
    let db = db::fresh().await;
    let (outer, inner) = (CountingLayer::default(), CountingLayer::default());
    let repo = Repo::builder(db.conn.clone())
        .layer(outer.clone())
        .layer(inner.clone())
        .build();
    let per_call = CountingLayer::default();
    repo.insert(new_tag("once"))
        .layer(per_call.clone())
        .await
        .expect("insert");
    assert_eq!((outer.count(), inner.count(), per_call.count()), (1, 1, 1));
    assert_eq!(tag::Entity::find().count(&db.conn).await.expect("count"), 1);

    repo.insert(new_tag("twice")).await.expect("insert");
    assert_eq!(
        per_call.count(),
        1,
        "a call's layer applies to that call only"
    );
    assert_eq!((outer.count(), inner.count()), (2, 2));
}

#[tokio::test]
async fn a_per_call_layer_can_short_circuit_one_call() {
    let db = db::fresh().await;
    let repo = Repo::new(db.conn.clone());
    let answer = AnswerLayer {
        response: Response::new(Outcome::Executed(ExecSummary {
            rows_affected: 0,
            last_insert_id: 0,
        })),
    };
    repo.delete_all(tag::Entity::delete_many())
        .layer(answer)
        .await
        .expect("answered");
    repo.insert(new_tag("real")).await.expect("insert");
    assert_eq!(tag::Entity::find().count(&db.conn).await.expect("count"), 1);
}
