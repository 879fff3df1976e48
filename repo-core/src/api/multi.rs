//! `Multi`: an ordered, all-or-nothing batch of writes, given as data.
//!
//! Like Ecto's `Ecto.Multi`, each step has a name and the result is looked up by it.
//! Steps are statements built on the calling node (no closures), so a batch can run on
//! another node. They are rendered in the dialect of the repository that runs the batch
//! (SQLite's `?` or PostgreSQL's `$1`), when it runs. `ActiveModelBehavior` hooks do not run for steps (as for sea-orm's
//! `insert_many`); use a named transaction when a step depends on an earlier one.

use std::collections::HashSet;

use futures::future::BoxFuture;
use sea_orm::{
    ActiveModelTrait, DbBackend, DeleteMany, EntityTrait, FromQueryResult, InsertMany, QueryTrait,
    StatementBuilder, UpdateMany,
};

use crate::call::{CallContext, WriteCall, WriteOp};
use crate::error::RepoError;
use crate::repo::Repo;
use crate::request::{Action, BatchStep, Operation, Request, StepOperation};
use crate::response::{ExecSummary, Outcome};
use crate::row::{Row, into_query_results};
use crate::shape::shape_of;

/// An ordered batch of named write steps that commit together or not at all.
///
/// ```text
/// let done = repo.multi(
///     Multi::new()
///         .insert("post", post_am)
///         .update_all("archive", post::Entity::update_many().col_expr(…).filter(…)),
/// ).await?;
/// let post: post::Model = done.model::<post::Entity>("post")?;
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct Multi {
    /// The steps, in execution order, not yet rendered in a dialect.
    steps: Vec<Step>,
    /// The first step that could not be built; reported when the batch runs.
    invalid: Option<String>,
}

/// One step before it meets a repository: its statement is rendered in the repository's
/// dialect when the batch runs.
struct Step {
    /// The step's name.
    name: String,
    /// The statement, in no dialect yet.
    statement: Box<dyn StatementBuilder + Send>,
    /// The shape of the rows a query step returns (`None`: an executed step).
    shape: Option<std::sync::Arc<crate::row::RowShape>>,
    /// Whether the batch fails when the step touches no row.
    require_row: bool,
}

impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Step")
            .field("name", &self.name)
            .field("query", &self.shape.is_some())
            .field("require_row", &self.require_row)
            .finish_non_exhaustive()
    }
}

impl Step {
    /// The step, its statement rendered for `backend`.
    fn render(self, backend: DbBackend) -> BatchStep {
        let statement = self.statement.build(&backend);
        let operation = match self.shape {
            Some(shape) => StepOperation::Query {
                statement,
                shape: Some(shape),
            },
            None => StepOperation::Execute(statement),
        };
        BatchStep {
            name: self.name,
            operation,
            require_row: self.require_row,
        }
    }
}

impl Multi {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Inserts `model`; the step's result is the inserted row.
    pub fn insert<A: ActiveModelTrait>(self, name: &str, model: A) -> Self {
        let mut query = A::Entity::insert(model).into_query();
        query.returning_all();
        self.query_step::<A::Entity>(name, Box::new(query), true)
    }

    /// Updates `model` by primary key; the step's result is the updated row, and the
    /// batch fails if no row matched.
    pub fn update<A: ActiveModelTrait>(self, name: &str, model: A) -> Self {
        match A::Entity::update(model).validate() {
            Ok(update) => {
                let mut query = update.into_query();
                query.returning_all();
                self.query_step::<A::Entity>(name, Box::new(query), true)
            }
            Err(e) => self.invalid(name, e),
        }
    }

    /// Deletes `model` by primary key; the batch fails if no row matched.
    pub fn delete<A: ActiveModelTrait>(self, name: &str, model: A) -> Self {
        match A::Entity::delete(model).validate() {
            Ok(delete) => self.exec_step(name, Box::new(delete.into_query()), true),
            Err(e) => self.invalid(name, e),
        }
    }

    /// Inserts many models; the step's result is the number of rows inserted.
    pub fn insert_all<A: ActiveModelTrait>(self, name: &str, query: InsertMany<A>) -> Self {
        self.exec_step(name, Box::new(query.into_query()), false)
    }

    /// Runs an `UpdateMany`; the step's result is the number of rows updated.
    pub fn update_all<E: EntityTrait>(self, name: &str, query: UpdateMany<E>) -> Self {
        self.exec_step(name, Box::new(query.into_query()), false)
    }

    /// Runs a `DeleteMany`; the step's result is the number of rows deleted.
    pub fn delete_all<E: EntityTrait>(self, name: &str, query: DeleteMany<E>) -> Self {
        self.exec_step(name, Box::new(query.into_query()), false)
    }

    /// The number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the batch has no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn query_step<E: EntityTrait>(
        mut self,
        name: &str,
        statement: Box<dyn StatementBuilder + Send>,
        require_row: bool,
    ) -> Self {
        self.steps.push(Step {
            name: name.to_owned(),
            statement,
            shape: Some(shape_of::<E>()),
            require_row,
        });
        self
    }

    fn exec_step(
        mut self,
        name: &str,
        statement: Box<dyn StatementBuilder + Send>,
        require_row: bool,
    ) -> Self {
        self.steps.push(Step {
            name: name.to_owned(),
            statement,
            shape: None,
            require_row,
        });
        self
    }

    fn invalid(mut self, name: &str, error: sea_orm::DbErr) -> Self {
        self.invalid
            .get_or_insert_with(|| format!("step `{name}`: {error}"));
        self
    }

    fn check(&self) -> Result<(), RepoError> {
        if let Some(reason) = &self.invalid {
            return Err(RepoError::InvalidRequest(reason.clone()));
        }
        if self.steps.is_empty() {
            return Err(RepoError::InvalidRequest(
                "a Multi needs at least one step".into(),
            ));
        }
        let mut seen = HashSet::new();
        for step in &self.steps {
            if !seen.insert(step.name.as_str()) {
                return Err(RepoError::InvalidRequest(format!(
                    "two steps are named `{}`",
                    step.name
                )));
            }
        }
        Ok(())
    }
}

/// What a committed [`Multi`] produced, by step name.
#[derive(Debug, Clone)]
pub struct MultiResult {
    /// Step names and outcomes, in execution order.
    steps: Vec<(String, Outcome)>,
}

impl MultiResult {
    fn outcome(&self, name: &str) -> Result<&Outcome, RepoError> {
        self.steps
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o)
            .ok_or_else(|| RepoError::InvalidRequest(format!("no step named `{name}`")))
    }

    /// The row an `insert` or `update` step wrote, as `E`'s model.
    pub async fn model<E: EntityTrait>(&self, name: &str) -> Result<E::Model, RepoError> {
        self.models::<E>(name)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| RepoError::InvalidRequest(format!("step `{name}` returned no row")))
    }

    /// The rows a step returned, as `E`'s models.
    pub async fn models<E: EntityTrait>(&self, name: &str) -> Result<Vec<E::Model>, RepoError> {
        let rows: Vec<Row> = match self.outcome(name)? {
            Outcome::Rows(rows) => rows.clone(),
            other => {
                return Err(RepoError::InvalidRequest(format!(
                    "step `{name}` returned no rows: {other:?}"
                )));
            }
        };
        let results = into_query_results(rows).await?;
        results
            .iter()
            .map(|r| E::Model::from_query_result(r, "").map_err(RepoError::from))
            .collect()
    }

    /// The number of rows a step changed.
    pub fn rows_affected(&self, name: &str) -> Result<u64, RepoError> {
        match self.outcome(name)? {
            Outcome::Executed(ExecSummary { rows_affected, .. }) => Ok(*rows_affected),
            Outcome::Rows(rows) => Ok(rows.len() as u64),
            other => Err(RepoError::InvalidRequest(format!(
                "step `{name}` has no row count: {other:?}"
            ))),
        }
    }
}

/// `Repo::multi`.
#[derive(Debug)]
pub struct RunMulti(Multi);

impl WriteOp for RunMulti {
    type Output = MultiResult;

    fn run(self, call: CallContext) -> BoxFuture<'static, Result<MultiResult, RepoError>> {
        Box::pin(async move {
            self.0.check()?;
            let names: Vec<String> = self.0.steps.iter().map(|s| s.name.clone()).collect();
            let backend = call.repo.connection().get_database_backend();
            let steps = self
                .0
                .steps
                .into_iter()
                .map(|s| s.render(backend))
                .collect();
            let request = Request::new(Action::Multi, "multi", Operation::Batch(steps));
            match call.repo.call(request, &call.options).await?.outcome {
                Outcome::Batch(outcomes) if outcomes.len() == names.len() => Ok(MultiResult {
                    steps: names.into_iter().zip(outcomes).collect(),
                }),
                other => Err(RepoError::Codec(format!(
                    "expected one outcome per step, got {other:?}"
                ))),
            }
        })
    }
}

impl Repo {
    /// Runs `multi` atomically: every step commits, or none does.
    pub fn multi(&self, multi: Multi) -> WriteCall<RunMulti> {
        WriteCall::new(self, RunMulti(multi))
    }
}
