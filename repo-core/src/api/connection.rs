//! `Repo` as a sea-orm connection: existing sea-orm code works unchanged.
//!
//! `post.insert(&repo)`, `Post::update_many()…exec(&repo)` and `Post::find().all(&repo)`
//! behave as on a `DatabaseConnection`, except that writes take the same path as the typed
//! API (through the middleware stack). Failures that are not database errors (a timeout, an
//! open circuit) arrive as `DbErr::Custom` with the typed error's message; use the typed
//! API to match on them.
//!
//! By default `Repo` tells sea-orm it does not support `RETURNING`, so an
//! `ActiveModel::insert` is a write followed by a local read of the row: that decodes into
//! any model. Rows that a write returns can only be typed for registered entities
//! ([`crate::RepoBuilder::entity`]); once every entity written through `&repo` is
//! registered, [`crate::RepoBuilder::sea_orm_returning`] saves the read.
//!
//! `Repo` also implements sea-orm's `TransactionTrait` (`repo.begin()`,
//! `repo.transaction(|txn| …)`): see [`crate::RepoTransaction`]. A
//! [`crate::NamedTransaction`] stays the one-round-trip choice from a replica.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, ExecResult, QueryResult, Statement};

use crate::options::CallOptions;
use crate::repo::Repo;
use crate::route::Route;

#[async_trait::async_trait]
impl ConnectionTrait for Repo {
    fn get_database_backend(&self) -> DbBackend {
        self.connection().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        let options = CallOptions::default();
        let route = Route::plain(self, &options);
        route.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        let options = CallOptions::default();
        let route = Route::plain(self, &options);
        route.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        let options = CallOptions::default();
        let route = Route::plain(self, &options);
        route.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let options = CallOptions::default();
        let route = Route::plain(self, &options);
        route.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.sea_orm_returning()
    }
}
