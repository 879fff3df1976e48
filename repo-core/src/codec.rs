//! Encoding requests and responses as bytes, losing no type information.
//!
//! The format is [postcard](https://docs.rs/postcard) over the `Wire*` types below: compact,
//! deterministic, and with every value's exact variant kept (see [`WireValue`]). A request's
//! deadline travels as the time remaining, since clocks differ between nodes. Statements are
//! always SQLite statements.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DbBackend, Statement, Values};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::error::RepoError;
use crate::facts::CallFacts;
use crate::request::{
    Action, BatchStep, Consistency, Fetch, Operation, Request, RequestId, StepOperation,
};
use crate::response::{ExecSummary, Outcome, Response};
use crate::row::{Row, RowShape, ValueKind};
use crate::value::WireValue;

/// A [`Request`] as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRequest {
    /// The request id.
    pub id: RequestId,
    /// The action label (`insert`, `transaction:<name>`, …).
    pub action: String,
    /// The table or transaction name.
    pub target: String,
    /// The operation.
    pub operation: WireOperation,
    /// Milliseconds left before the deadline, if there is one.
    pub remaining_ms: Option<u64>,
    /// The consistency wish.
    pub consistency: Consistency,
}

/// An [`Operation`] as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // mirrors `Operation`
pub enum WireOperation {
    Execute(WireStatement),
    Query {
        statement: WireStatement,
        shape: Option<Vec<(String, ValueKind)>>,
        fetch: Fetch,
    },
    Transaction {
        name: String,
        args: Vec<u8>,
    },
    Batch(Vec<WireStep>),
}

/// A [`BatchStep`] as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // mirrors `BatchStep`
pub struct WireStep {
    pub name: String,
    pub statement: WireStatement,
    pub shape: Option<Vec<(String, ValueKind)>>,
    pub returns_rows: bool,
    pub require_row: bool,
}

/// A SQLite statement and its bound values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireStatement {
    /// SQL text with `?` placeholders.
    pub sql: String,
    /// Bound values, in order; `None` when the statement has none.
    pub values: Option<Vec<WireValue>>,
}

/// A [`Response`] as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // mirrors `Outcome`
pub enum WireOutcome {
    Executed(ExecSummary),
    Rows(Vec<WireRow>),
    Transaction(Vec<u8>),
    Batch(Vec<WireOutcome>),
}

/// A [`Row`] as plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireRow {
    /// Column names.
    pub columns: Vec<String>,
    /// One value per column.
    pub values: Vec<WireValue>,
}

/// Encodes `request` as bytes.
pub fn encode_request(request: &Request) -> Result<Vec<u8>, RepoError> {
    let wire = WireRequest::try_from(request)?;
    postcard::to_stdvec(&wire).map_err(|e| RepoError::Codec(format!("request: {e}")))
}

/// Decodes a request encoded by [`encode_request`]. Arbitrary bytes give an error, never a
/// panic.
pub fn decode_request(bytes: &[u8]) -> Result<Request, RepoError> {
    let wire: WireRequest =
        postcard::from_bytes(bytes).map_err(|e| RepoError::Codec(format!("request: {e}")))?;
    Request::try_from(wire)
}

/// Encodes `response` as bytes.
pub fn encode_response(response: &Response) -> Result<Vec<u8>, RepoError> {
    let wire = WireOutcome::try_from(&response.outcome)?;
    postcard::to_stdvec(&wire).map_err(|e| RepoError::Codec(format!("response: {e}")))
}

/// Decodes a response encoded by [`encode_response`].
pub fn decode_response(bytes: &[u8]) -> Result<Response, RepoError> {
    let wire: WireOutcome =
        postcard::from_bytes(bytes).map_err(|e| RepoError::Codec(format!("response: {e}")))?;
    Ok(Response::new(Outcome::try_from(wire)?))
}

impl TryFrom<&Statement> for WireStatement {
    type Error = RepoError;

    fn try_from(stmt: &Statement) -> Result<Self, RepoError> {
        let values = match &stmt.values {
            Some(values) => Some(
                values
                    .0
                    .iter()
                    .map(WireValue::try_from)
                    .collect::<Result<_, _>>()?,
            ),
            None => None,
        };
        Ok(Self {
            sql: stmt.sql.clone(),
            values,
        })
    }
}

impl TryFrom<WireStatement> for Statement {
    type Error = RepoError;

    fn try_from(wire: WireStatement) -> Result<Self, RepoError> {
        let values = match wire.values {
            Some(values) => Some(Values(
                values
                    .into_iter()
                    .map(sea_orm::Value::try_from)
                    .collect::<Result<_, _>>()?,
            )),
            None => None,
        };
        Ok(Statement {
            sql: wire.sql,
            values,
            db_backend: DbBackend::Sqlite,
        })
    }
}

fn wire_shape(shape: &Option<Arc<RowShape>>) -> Option<Vec<(String, ValueKind)>> {
    shape.as_ref().map(|s| {
        let mut columns: Vec<_> = s.columns().map(|(c, k)| (c.to_owned(), k)).collect();
        columns.sort_by(|a, b| a.0.cmp(&b.0));
        columns
    })
}

fn shape(wire: Option<Vec<(String, ValueKind)>>) -> Option<Arc<RowShape>> {
    wire.map(|columns| Arc::new(RowShape::new(columns)))
}

impl TryFrom<&Request> for WireRequest {
    type Error = RepoError;

    fn try_from(request: &Request) -> Result<Self, RepoError> {
        let operation = match &request.operation {
            Operation::Execute(stmt) => WireOperation::Execute(stmt.try_into()?),
            Operation::Query {
                statement,
                shape,
                fetch,
            } => WireOperation::Query {
                statement: statement.try_into()?,
                shape: wire_shape(shape),
                fetch: *fetch,
            },
            Operation::Transaction { name, args } => WireOperation::Transaction {
                name: name.clone(),
                args: args.clone(),
            },
            Operation::Batch(steps) => WireOperation::Batch(
                steps
                    .iter()
                    .map(WireStep::try_from)
                    .collect::<Result<_, _>>()?,
            ),
        };
        let remaining_ms = request.deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            u64::try_from(left.as_millis()).unwrap_or(u64::MAX)
        });
        Ok(Self {
            id: request.id,
            action: request.action.label(),
            target: request.target.clone(),
            operation,
            remaining_ms,
            consistency: request.consistency,
        })
    }
}

impl TryFrom<&BatchStep> for WireStep {
    type Error = RepoError;

    fn try_from(step: &BatchStep) -> Result<Self, RepoError> {
        let (statement, shape, returns_rows) = match &step.operation {
            StepOperation::Execute(stmt) => (stmt.try_into()?, None, false),
            StepOperation::Query { statement, shape } => {
                (statement.try_into()?, wire_shape(shape), true)
            }
        };
        Ok(Self {
            name: step.name.clone(),
            statement,
            shape,
            returns_rows,
            require_row: step.require_row,
        })
    }
}

impl TryFrom<WireRequest> for Request {
    type Error = RepoError;

    fn try_from(wire: WireRequest) -> Result<Self, RepoError> {
        let operation = match wire.operation {
            WireOperation::Execute(stmt) => Operation::Execute(stmt.try_into()?),
            WireOperation::Query {
                statement,
                shape: s,
                fetch,
            } => Operation::Query {
                statement: statement.try_into()?,
                shape: shape(s),
                fetch,
            },
            WireOperation::Transaction { name, args } => Operation::Transaction { name, args },
            WireOperation::Batch(steps) => Operation::Batch(
                steps
                    .into_iter()
                    .map(BatchStep::try_from)
                    .collect::<Result<_, _>>()?,
            ),
        };
        Ok(Request {
            id: wire.id,
            action: parse_action(&wire.action)?,
            target: wire.target,
            operation,
            deadline: wire
                .remaining_ms
                .map(|ms| Instant::now() + Duration::from_millis(ms.min(24 * 3600 * 1000))),
            consistency: wire.consistency,
            facts: CallFacts::default(),
        })
    }
}

impl TryFrom<WireStep> for BatchStep {
    type Error = RepoError;

    fn try_from(wire: WireStep) -> Result<Self, RepoError> {
        let statement = wire.statement.try_into()?;
        let operation = if wire.returns_rows {
            StepOperation::Query {
                statement,
                shape: shape(wire.shape),
            }
        } else {
            StepOperation::Execute(statement)
        };
        Ok(Self {
            name: wire.name,
            operation,
            require_row: wire.require_row,
        })
    }
}

/// The inverse of [`Action::label`].
pub fn parse_action(label: &str) -> Result<Action, RepoError> {
    Ok(match label {
        "insert" => Action::Insert,
        "update" => Action::Update,
        "delete" => Action::Delete,
        "insert_or_update" => Action::InsertOrUpdate,
        "insert_all" => Action::InsertAll,
        "update_all" => Action::UpdateAll,
        "delete_all" => Action::DeleteAll,
        "multi" => Action::Multi,
        "execute" => Action::Execute,
        other => match other.strip_prefix("transaction:") {
            Some(name) => Action::Transaction(name.to_owned()),
            None => return Err(RepoError::Codec(format!("unknown action `{other}`"))),
        },
    })
}

impl TryFrom<&Outcome> for WireOutcome {
    type Error = RepoError;

    fn try_from(outcome: &Outcome) -> Result<Self, RepoError> {
        Ok(match outcome {
            Outcome::Executed(summary) => WireOutcome::Executed(*summary),
            Outcome::Rows(rows) => WireOutcome::Rows(
                rows.iter()
                    .map(WireRow::try_from)
                    .collect::<Result<_, _>>()?,
            ),
            Outcome::Transaction(output) => WireOutcome::Transaction(output.clone()),
            Outcome::Batch(outcomes) => WireOutcome::Batch(
                outcomes
                    .iter()
                    .map(WireOutcome::try_from)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

impl TryFrom<WireOutcome> for Outcome {
    type Error = RepoError;

    fn try_from(wire: WireOutcome) -> Result<Self, RepoError> {
        Ok(match wire {
            WireOutcome::Executed(summary) => Outcome::Executed(summary),
            WireOutcome::Rows(rows) => Outcome::Rows(
                rows.into_iter()
                    .map(Row::try_from)
                    .collect::<Result<_, _>>()?,
            ),
            WireOutcome::Transaction(output) => Outcome::Transaction(output),
            WireOutcome::Batch(outcomes) => Outcome::Batch(
                outcomes
                    .into_iter()
                    .map(Outcome::try_from)
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

impl TryFrom<&Row> for WireRow {
    type Error = RepoError;

    fn try_from(row: &Row) -> Result<Self, RepoError> {
        Ok(Self {
            columns: row.columns.clone(),
            values: row
                .values
                .iter()
                .map(WireValue::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

impl TryFrom<WireRow> for Row {
    type Error = RepoError;

    fn try_from(wire: WireRow) -> Result<Self, RepoError> {
        if wire.columns.len() != wire.values.len() {
            return Err(RepoError::Codec(format!(
                "row has {} columns but {} values",
                wire.columns.len(),
                wire.values.len()
            )));
        }
        Ok(Self {
            columns: wire.columns,
            values: wire
                .values
                .into_iter()
                .map(sea_orm::Value::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}
