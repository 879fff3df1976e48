//! The JSON API under `/api`: posts, comments, tags, publishing and archiving.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use repo_core::{IdempotencyKey, RepoError, WriteCall};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, ModelTrait, QueryFilter, QueryOrder, SqlErr};
use serde::Serialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiJson, IdempotencyKeyHeader, PostId};
use super::validate::{ArchiveRequest, NewCommentRequest, NewPostRequest, ValidComment};
use super::{AppState, CommentEvent};
use crate::entities::{comment, post, tag};
use crate::transactions::{
    AddComment, CreatePostWithTags, NOT_A_DRAFT, NewComment, NewPost, PublishPost,
};

/// A post with everything its page shows.
#[derive(Debug, Serialize)]
pub(crate) struct PostDetail {
    pub(crate) post: post::Model,
    pub(crate) comments: Vec<comment::Model>,
    pub(crate) tags: Vec<String>,
}

/// Non-archived posts, newest first.
pub(crate) async fn recent_posts(state: &AppState) -> Result<Vec<post::Model>, ApiError> {
    Ok(state
        .repo
        .all(
            post::Entity::find()
                .filter(post::Column::Archived.eq(false))
                .order_by_desc(post::Column::CreatedAt)
                .order_by_desc(post::Column::Id),
        )
        .await?)
}

/// The post `id` with its comments (oldest first) and tag names; `NotFound` if missing.
pub(crate) async fn post_detail(state: &AppState, id: i32) -> Result<PostDetail, ApiError> {
    let post = state
        .repo
        .get::<post::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let comments = state
        .repo
        .all(
            post.find_related(comment::Entity)
                .order_by_asc(comment::Column::CreatedAt)
                .order_by_asc(comment::Column::Id),
        )
        .await?;
    let tags = state
        .repo
        .all(
            post.find_related(tag::Entity)
                .order_by_asc(tag::Column::Name),
        )
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    Ok(PostDetail {
        post,
        comments,
        tags,
    })
}

/// Stores a validated comment on post `post_id` and tells every watcher about it. With a
/// `key`, a replay gets the first answer (see `AddComment`).
pub(crate) async fn add_comment(
    state: &AppState,
    post_id: i32,
    comment: ValidComment,
    key: Option<IdempotencyKey>,
) -> Result<CommentEvent, ApiError> {
    if state.repo.get::<post::Entity>(post_id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    let call = state.repo.transaction::<AddComment>(NewComment {
        post_id,
        author: comment.author,
        body: comment.body,
    });
    let stored = with_key(call, key).await?;
    // The comment is in this node's database now (read-your-writes on a replica): the
    // feed announces it to this node's viewers, as every other node's feed will once it
    // replicates there.
    state.feed.wake();
    Ok(CommentEvent::from(stored))
}

/// `GET /api/posts`.
pub(crate) async fn list_posts(
    State(state): State<AppState>,
) -> Result<Json<Vec<post::Model>>, ApiError> {
    Ok(Json(recent_posts(&state).await?))
}

/// The call made idempotent under `key`, when the client sent one.
fn with_key<Op>(call: WriteCall<Op>, key: Option<IdempotencyKey>) -> WriteCall<Op> {
    match key {
        Some(key) => call.idempotency_key(key),
        None => call,
    }
}

/// `POST /api/posts`: runs `CreatePostWithTags`; `201` with the post. With an
/// `Idempotency-Key`, a replay (through any node) gets the same answer and writes nothing.
pub(crate) async fn create_post(
    State(state): State<AppState>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(request): ApiJson<NewPostRequest>,
) -> Result<(StatusCode, Json<post::Model>), ApiError> {
    let post = create_draft(&state, request.validate()?, key).await?;
    Ok((StatusCode::CREATED, Json(post)))
}

/// Stores a new draft with its tags; a taken slug is a `Conflict` on `slug`.
pub(crate) async fn create_draft(
    state: &AppState,
    args: NewPost,
    key: Option<IdempotencyKey>,
) -> Result<post::Model, ApiError> {
    match with_key(state.repo.transaction::<CreatePostWithTags>(args), key).await {
        Ok(post) => Ok(post),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(ApiError::Conflict {
                field: Some("slug"),
                message: "a post with this slug already exists",
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Publishes post `id`; `NotFound` if missing, `Conflict` if already published. With a
/// `key`, a replay of a publication that succeeded gets its answer again: the ledger is
/// asked first, before the post is found already published.
pub(crate) async fn publish(
    state: &AppState,
    id: i32,
    key: Option<IdempotencyKey>,
) -> Result<post::Model, ApiError> {
    let post = state
        .repo
        .get::<post::Entity>(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if post.published && key.is_none() {
        return Err(ApiError::Conflict {
            field: None,
            message: "the post is already published",
        });
    }
    let published = match with_key(state.repo.transaction::<PublishPost>(id), key).await {
        Ok(published) => published,
        // Published meanwhile (by a concurrent request, maybe through another node, whose
        // write had not replicated here when the post was read above): posts are never
        // deleted, so "no draft to publish" means published. Any other failure is one.
        Err(RepoError::TransactionFailed {
            source: DbErr::Custom(message),
            ..
        }) if post.published || message.ends_with(NOT_A_DRAFT) => {
            return Err(ApiError::Conflict {
                field: None,
                message: "the post is already published",
            });
        }
        Err(e) => return Err(e.into()),
    };
    state.feed.wake();
    Ok(published)
}

/// `GET /api/posts/{id}`: the post, its comments and its tag names.
pub(crate) async fn show_post(
    State(state): State<AppState>,
    PostId(id): PostId,
) -> Result<Json<PostDetail>, ApiError> {
    Ok(Json(post_detail(&state, id).await?))
}

/// `POST /api/posts/{id}/comments`: `201` with the comment.
pub(crate) async fn create_comment(
    State(state): State<AppState>,
    PostId(id): PostId,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(request): ApiJson<NewCommentRequest>,
) -> Result<(StatusCode, Json<CommentEvent>), ApiError> {
    let comment = request.validate()?;
    let event = add_comment(&state, id, comment, key).await?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// `GET /api/tags`: every tag, by name.
pub(crate) async fn list_tags(
    State(state): State<AppState>,
) -> Result<Json<Vec<tag::Model>>, ApiError> {
    let tags = state
        .repo
        .all(tag::Entity::find().order_by_asc(tag::Column::Name))
        .await?;
    Ok(Json(tags))
}

/// `POST /api/posts/{id}/publish`: runs `PublishPost`; `409` if already published.
pub(crate) async fn publish_post(
    State(state): State<AppState>,
    PostId(id): PostId,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
) -> Result<Json<post::Model>, ApiError> {
    Ok(Json(publish(&state, id, key).await?))
}

/// `POST /api/posts/archive` with `{older_than_days}`: archives every post created before
/// then in one `update_all`; `{archived: n}`. The cutoff is computed by the primary's
/// SQLite (`datetime('now', '-N days')`), so a replay under one `Idempotency-Key` asks the
/// same thing.
pub(crate) async fn archive_posts(
    State(state): State<AppState>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(request): ApiJson<ArchiveRequest>,
) -> Result<Json<Value>, ApiError> {
    let days = request.validate()?;
    let call = state.repo.update_all(
        post::Entity::update_many()
            .col_expr(post::Column::Archived, Expr::value(true))
            .filter(post::Column::Archived.eq(false))
            .filter(Expr::cust_with_values(
                "\"created_at\" < datetime('now', ?)",
                [format!("-{days} days")],
            )),
    );
    let result = with_key(call, key).await?;
    Ok(Json(json!({ "archived": result.rows_affected })))
}
