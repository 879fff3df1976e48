//! The read API: `all`, `one`, `get`, `get_by`, `count`, `exists`. Reads always run on the
//! local database, never through the middleware stack.

use sea_orm::sea_query::IntoCondition;
use sea_orm::{EntityTrait, PaginatorTrait, PrimaryKeyTrait, QueryFilter, QuerySelect, Select};

use crate::error::RepoError;
use crate::repo::Repo;

impl Repo {
    /// Every row `query` selects (`Entity::find().filter(…)`).
    pub async fn all<E: EntityTrait>(&self, query: Select<E>) -> Result<Vec<E::Model>, RepoError> {
        Ok(query.all(self.connection()).await?)
    }

    /// The first row `query` selects, if any.
    pub async fn one<E: EntityTrait>(
        &self,
        query: Select<E>,
    ) -> Result<Option<E::Model>, RepoError> {
        Ok(query.one(self.connection()).await?)
    }

    /// The row with primary key `id`, if any.
    pub async fn get<E: EntityTrait>(
        &self,
        id: impl Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    ) -> Result<Option<E::Model>, RepoError> {
        Ok(E::find_by_id(id).one(self.connection()).await?)
    }

    /// The one row matching `condition`, if any; [`RepoError::MultipleResults`] if several
    /// match (as Ecto's `get_by`).
    pub async fn get_by<E: EntityTrait>(
        &self,
        condition: impl IntoCondition,
    ) -> Result<Option<E::Model>, RepoError> {
        let mut rows = E::find()
            .filter(condition)
            .limit(2)
            .all(self.connection())
            .await?;
        if rows.len() > 1 {
            return Err(RepoError::MultipleResults);
        }
        Ok(rows.pop())
    }

    /// How many rows `query` selects.
    pub async fn count<E>(&self, query: Select<E>) -> Result<u64, RepoError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        Ok(query.count(self.connection()).await?)
    }

    /// Whether `query` selects at least one row.
    pub async fn exists<E: EntityTrait>(&self, query: Select<E>) -> Result<bool, RepoError> {
        Ok(query.limit(1).one(self.connection()).await?.is_some())
    }
}
