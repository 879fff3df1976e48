//! The typed write API: `insert`, `update`, `delete`, `insert_or_update`, `insert_all`,
//! `update_all`, `delete_all`.
//!
//! Each write runs sea-orm's own code for the operation against a `Route`, so it returns
//! exactly what sea-orm returns and `ActiveModelBehavior` hooks run on the calling node;
//! every statement it writes with passes through the middleware stack.

use futures::future::BoxFuture;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, DeleteMany, DeleteResult, EntityTrait, InsertMany,
    InsertManyResult, IntoActiveModel, TryIntoModel, UpdateMany, UpdateResult,
};

use crate::call::{CallContext, WriteCall, WriteOp};
use crate::error::RepoError;
use crate::repo::Repo;
use crate::request::Action;
use crate::route::Route;
use crate::shape::{shape_of, table_of};

/// The bounds every typed single-model write needs.
pub trait WritableModel: ActiveModelTrait + ActiveModelBehavior + Send + Sync + 'static
where
    <Self::Entity as EntityTrait>::Model: IntoActiveModel<Self> + Send + Sync,
{
}

impl<A> WritableModel for A
where
    A: ActiveModelTrait + ActiveModelBehavior + Send + Sync + 'static,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Send + Sync,
{
}

type Model<A> = <<A as ActiveModelTrait>::Entity as EntityTrait>::Model;

fn route<E: EntityTrait>(call: &CallContext, action: Action) -> Route<'_> {
    Route::typed(
        &call.repo,
        &call.options,
        action,
        table_of::<E>(),
        Some(shape_of::<E>()),
    )
}

/// `Repo::insert`: inserts one model and returns it as stored.
#[derive(Debug)]
pub struct Insert<A> {
    model: A,
    on_conflict: Option<OnConflict>,
}

impl<A: WritableModel> WriteCall<Insert<A>>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    /// What to do when the row conflicts with an existing one (`ON CONFLICT …`).
    pub fn on_conflict(self, on_conflict: OnConflict) -> Self {
        self.map_op(|op| Insert {
            on_conflict: Some(on_conflict),
            ..op
        })
    }
}

impl<A: WritableModel> WriteOp for Insert<A>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    type Output = Model<A>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<A::Entity>(&call, Action::Insert);
            let result = match self.on_conflict {
                None => self.model.insert(&conn).await,
                // What `ActiveModelTrait::insert` does, with the conflict clause added.
                Some(on_conflict) => {
                    async {
                        let am = A::before_save(self.model, &conn, true).await?;
                        let model = A::Entity::insert(am)
                            .on_conflict(on_conflict)
                            .exec_with_returning(&conn)
                            .await?;
                        A::after_save(model, &conn, true).await
                    }
                    .await
                }
            };
            conn.finish(result)
        })
    }
}

/// `Repo::update`: updates one model by primary key and returns it as stored.
#[derive(Debug)]
pub struct Update<A>(A);

impl<A: WritableModel> WriteOp for Update<A>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    type Output = Model<A>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<A::Entity>(&call, Action::Update);
            let result = self.0.update(&conn).await;
            conn.finish(result)
        })
    }
}

/// `Repo::delete`: deletes one model by primary key.
#[derive(Debug)]
pub struct Delete<A>(A);

impl<A: WritableModel> WriteOp for Delete<A>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    type Output = DeleteResult;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<A::Entity>(&call, Action::Delete);
            let result = self.0.delete(&conn).await;
            conn.finish(result)
        })
    }
}

/// `Repo::insert_or_update`: inserts a model whose primary key is not set, updates it
/// otherwise (sea-orm's `save`), and returns it as stored.
#[derive(Debug)]
pub struct InsertOrUpdate<A>(A);

impl<A: WritableModel + TryIntoModel<Model<A>>> WriteOp for InsertOrUpdate<A>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    type Output = Model<A>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<A::Entity>(&call, Action::InsertOrUpdate);
            let result = async { self.0.save(&conn).await?.try_into_model() }.await;
            conn.finish(result)
        })
    }
}

/// `Repo::insert_all`: inserts many models in one statement.
#[derive(Debug)]
pub struct InsertAll<A: ActiveModelTrait>(InsertMany<A>);

/// `insert_all(…).returning()`: the inserted rows.
#[derive(Debug)]
pub struct InsertAllReturning<A: ActiveModelTrait>(InsertMany<A>);

impl<A: WritableModel> WriteCall<InsertAll<A>>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    /// Returns the inserted rows (`RETURNING *`) instead of the last id.
    pub fn returning(self) -> WriteCall<InsertAllReturning<A>> {
        self.map_op(|op| InsertAllReturning(op.0))
    }
}

impl<A: WritableModel> WriteOp for InsertAll<A>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    type Output = InsertManyResult<A>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<A::Entity>(&call, Action::InsertAll);
            let result = self.0.exec(&conn).await;
            conn.finish(result)
        })
    }
}

impl<A: WritableModel> WriteOp for InsertAllReturning<A>
where
    Model<A>: IntoActiveModel<A> + Send + Sync,
{
    type Output = Vec<Model<A>>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<A::Entity>(&call, Action::InsertAll);
            let result = self.0.exec_with_returning(&conn).await;
            conn.finish(result)
        })
    }
}

/// `Repo::update_all`: updates every row an `UpdateMany` selects.
#[derive(Debug)]
pub struct UpdateAll<E: EntityTrait>(UpdateMany<E>);

/// `update_all(…).returning()`: the updated rows.
#[derive(Debug)]
pub struct UpdateAllReturning<E: EntityTrait>(UpdateMany<E>);

impl<E: EntityTrait> WriteCall<UpdateAll<E>>
where
    E::Model: Send + Sync,
{
    /// Returns the updated rows (`RETURNING *`) instead of their count.
    pub fn returning(self) -> WriteCall<UpdateAllReturning<E>> {
        self.map_op(|op| UpdateAllReturning(op.0))
    }
}

impl<E: EntityTrait> WriteOp for UpdateAll<E>
where
    E::Model: Send + Sync,
{
    type Output = UpdateResult;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<E>(&call, Action::UpdateAll);
            let result = self.0.exec(&conn).await;
            conn.finish(result)
        })
    }
}

impl<E: EntityTrait> WriteOp for UpdateAllReturning<E>
where
    E::Model: Send + Sync,
{
    type Output = Vec<E::Model>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<E>(&call, Action::UpdateAll);
            let result = self.0.exec_with_returning(&conn).await;
            conn.finish(result)
        })
    }
}

/// `Repo::delete_all`: deletes every row a `DeleteMany` selects.
#[derive(Debug)]
pub struct DeleteAll<E: EntityTrait>(DeleteMany<E>);

/// `delete_all(…).returning()`: the deleted rows.
#[derive(Debug)]
pub struct DeleteAllReturning<E: EntityTrait>(DeleteMany<E>);

impl<E: EntityTrait> WriteCall<DeleteAll<E>>
where
    E::Model: Send + Sync,
{
    /// Returns the deleted rows (`RETURNING *`) instead of their count.
    pub fn returning(self) -> WriteCall<DeleteAllReturning<E>> {
        self.map_op(|op| DeleteAllReturning(op.0))
    }
}

impl<E: EntityTrait> WriteOp for DeleteAll<E>
where
    E::Model: Send + Sync,
{
    type Output = DeleteResult;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<E>(&call, Action::DeleteAll);
            let result = self.0.exec(&conn).await;
            conn.finish(result)
        })
    }
}

impl<E: EntityTrait> WriteOp for DeleteAllReturning<E>
where
    E::Model: Send + Sync,
{
    type Output = Vec<E::Model>;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<Self::Output, RepoError>> {
        Box::pin(async move {
            let conn = route::<E>(&call, Action::DeleteAll);
            let result = self.0.exec_with_returning(&conn).await;
            conn.finish(result)
        })
    }
}

impl Repo {
    /// Inserts `model` and returns it as stored (`ActiveModel::insert`).
    pub fn insert<A: WritableModel>(&self, model: A) -> WriteCall<Insert<A>>
    where
        Model<A>: IntoActiveModel<A> + Send + Sync,
    {
        WriteCall::new(
            self,
            Insert {
                model,
                on_conflict: None,
            },
        )
    }

    /// Updates `model` by primary key and returns it as stored (`ActiveModel::update`).
    pub fn update<A: WritableModel>(&self, model: A) -> WriteCall<Update<A>>
    where
        Model<A>: IntoActiveModel<A> + Send + Sync,
    {
        WriteCall::new(self, Update(model))
    }

    /// Deletes `model` by primary key (`ActiveModel::delete`).
    pub fn delete<A: WritableModel>(&self, model: A) -> WriteCall<Delete<A>>
    where
        Model<A>: IntoActiveModel<A> + Send + Sync,
    {
        WriteCall::new(self, Delete(model))
    }

    /// Inserts `model` if its primary key is not set, updates it otherwise
    /// (`ActiveModel::save`), and returns it as stored.
    pub fn insert_or_update<A: WritableModel + TryIntoModel<Model<A>>>(
        &self,
        model: A,
    ) -> WriteCall<InsertOrUpdate<A>>
    where
        Model<A>: IntoActiveModel<A> + Send + Sync,
    {
        WriteCall::new(self, InsertOrUpdate(model))
    }

    /// Inserts many models in one statement, with the options of the `InsertMany`
    /// (`Entity::insert_many(models).on_conflict(…)`); `.returning()` returns the rows.
    pub fn insert_all<A: WritableModel>(&self, query: InsertMany<A>) -> WriteCall<InsertAll<A>>
    where
        Model<A>: IntoActiveModel<A> + Send + Sync,
    {
        WriteCall::new(self, InsertAll(query))
    }

    /// Runs an `UpdateMany` (`Entity::update_many().col_expr(…).filter(…)`);
    /// `.returning()` returns the updated rows.
    pub fn update_all<E: EntityTrait>(&self, query: UpdateMany<E>) -> WriteCall<UpdateAll<E>>
    where
        E::Model: Send + Sync,
    {
        WriteCall::new(self, UpdateAll(query))
    }

    /// Runs a `DeleteMany` (`Entity::delete_many().filter(…)`); `.returning()` returns
    /// the deleted rows.
    pub fn delete_all<E: EntityTrait>(&self, query: DeleteMany<E>) -> WriteCall<DeleteAll<E>>
    where
        E::Model: Send + Sync,
    {
        WriteCall::new(self, DeleteAll(query))
    }
}
