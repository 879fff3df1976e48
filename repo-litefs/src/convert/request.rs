//! Requests: `repo_core::Request` ⇄ `pb::ForwardRequest`.

use std::sync::Arc;
use std::time::Duration;

use repo_core::spi::RowShape;
use repo_core::{
    BatchStep, Consistency, Durability, Fetch, Operation, Request, RequestId, StepOperation,
};
use sea_orm::{DbBackend, Statement, Values};
use tokio::time::Instant;

use super::ConvertError;
use super::action::{decode_action, encode_action};
use super::value::{decode_parameter, encode_value, value_kind};
use crate::proto as pb;

/// Encodes `request` for the wire; `origin` names the sending node. The deadline travels
/// as the time left (`timeout_ms`), since clocks differ between nodes.
pub fn encode_request(request: &Request, origin: &str) -> Result<pb::ForwardRequest, ConvertError> {
    let operation = encode_operation(&request.operation)?;
    let timeout_ms = request.deadline.map(|d| {
        u64::try_from(d.saturating_duration_since(Instant::now()).as_millis()).unwrap_or(u64::MAX)
    });
    let (action, action_transaction) = encode_action(&request.action);
    Ok(pb::ForwardRequest {
        request_id: request.id.0.as_bytes().to_vec(),
        action: action as i32,
        action_transaction,
        target: request.target.clone(),
        operation: Some(operation),
        timeout_ms,
        origin: origin.to_owned(),
        consistency: match request.consistency {
            Consistency::ReadYourWrites => pb::Consistency::ReadYourWrites,
            Consistency::Eventual => pb::Consistency::Eventual,
        } as i32,
        durability: match request.durability {
            None => pb::Durability::Default,
            Some(Durability::Primary) => pb::Durability::Primary,
            Some(Durability::Candidates) => pb::Durability::Candidates,
        } as i32,
    })
}

/// Encodes what a request asks the primary to run.
pub(crate) fn encode_operation(
    operation: &Operation,
) -> Result<pb::forward_request::Operation, ConvertError> {
    Ok(match operation {
        Operation::Execute(stmt) => pb::forward_request::Operation::Execute(statement(stmt)?),
        Operation::Query {
            statement: stmt,
            shape: s,
            fetch,
        } => pb::forward_request::Operation::Query(pb::Query {
            statement: Some(statement(stmt)?),
            shape: s.as_deref().map(shape),
            fetch_one: *fetch == Fetch::One,
        }),
        Operation::Transaction { name, args } => {
            pb::forward_request::Operation::Transaction(pb::NamedTransaction {
                name: name.clone(),
                args: args.clone(),
            })
        }
        Operation::Batch(steps) => pb::forward_request::Operation::Batch(pb::Batch {
            steps: steps.iter().map(step).collect::<Result<_, _>>()?,
        }),
    })
}

/// Decodes a request sent by [`encode_request`].
pub fn decode_request(message: pb::ForwardRequest) -> Result<Request, ConvertError> {
    let id: [u8; 16] = message
        .request_id
        .try_into()
        .map_err(|_| ConvertError("request_id must be 16 bytes".into()))?;
    let operation = match message
        .operation
        .ok_or_else(|| ConvertError::missing("operation"))?
    {
        pb::forward_request::Operation::Execute(s) => Operation::Execute(decode_statement(s)?),
        pb::forward_request::Operation::Query(q) => Operation::Query {
            statement: decode_statement(
                q.statement
                    .ok_or_else(|| ConvertError::missing("statement"))?,
            )?,
            shape: q.shape.map(decode_shape).transpose()?,
            fetch: if q.fetch_one { Fetch::One } else { Fetch::All },
        },
        pb::forward_request::Operation::Transaction(t) => Operation::Transaction {
            name: t.name,
            args: t.args,
        },
        pb::forward_request::Operation::Batch(b) => Operation::Batch(
            b.steps
                .into_iter()
                .map(decode_step)
                .collect::<Result<_, _>>()?,
        ),
    };
    let consistency = match pb::Consistency::try_from(message.consistency) {
        Ok(pb::Consistency::ReadYourWrites) => Consistency::ReadYourWrites,
        Ok(pb::Consistency::Eventual) => Consistency::Eventual,
        Err(_) => {
            return Err(ConvertError(format!(
                "unknown consistency {}",
                message.consistency
            )));
        }
    };
    let durability = match pb::Durability::try_from(message.durability) {
        Ok(pb::Durability::Default) => None,
        Ok(pb::Durability::Primary) => Some(Durability::Primary),
        Ok(pb::Durability::Candidates) => Some(Durability::Candidates),
        Err(_) => {
            return Err(ConvertError(format!(
                "unknown durability {}",
                message.durability
            )));
        }
    };
    let action = decode_action(message.action, message.action_transaction)?;
    let mut request = Request::new(action, message.target, operation);
    request.id = RequestId(uuid::Uuid::from_bytes(id));
    request.consistency = consistency;
    request.durability = durability;
    request.deadline = message
        .timeout_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms.min(24 * 3600 * 1000)));
    Ok(request)
}

fn statement(stmt: &Statement) -> Result<pb::Statement, ConvertError> {
    let (values, present) = match &stmt.values {
        Some(values) => (
            values
                .0
                .iter()
                .map(encode_value)
                .collect::<Result<_, _>>()?,
            true,
        ),
        None => (Vec::new(), false),
    };
    Ok(pb::Statement {
        sql: stmt.sql.clone(),
        values,
        values_present: present,
    })
}

fn decode_statement(s: pb::Statement) -> Result<Statement, ConvertError> {
    let values = if s.values_present {
        Some(Values(
            s.values
                .into_iter()
                .map(decode_parameter)
                .collect::<Result<_, _>>()?,
        ))
    } else if s.values.is_empty() {
        None
    } else {
        return Err(ConvertError(
            "values sent but values_present is false".into(),
        ));
    };
    Ok(Statement {
        sql: s.sql,
        values,
        db_backend: DbBackend::Sqlite,
    })
}

fn shape(s: &RowShape) -> pb::Shape {
    let mut columns: Vec<pb::ColumnKind> = s
        .columns()
        .map(|(c, k)| pb::ColumnKind {
            column: c.to_owned(),
            kind: pb::ValueKind::from(k) as i32,
            array: false,
        })
        .chain(s.array_columns().map(|(c, k)| pb::ColumnKind {
            column: c.to_owned(),
            kind: pb::ValueKind::from(k) as i32,
            array: true,
        }))
        .collect();
    columns.sort_by(|a, b| a.column.cmp(&b.column));
    pb::Shape { columns }
}

fn decode_shape(s: pb::Shape) -> Result<Arc<RowShape>, ConvertError> {
    let (mut scalars, mut arrays) = (Vec::new(), Vec::new());
    for c in s.columns {
        let kind = value_kind(c.kind)?;
        if c.array {
            arrays.push((c.column, kind));
        } else {
            scalars.push((c.column, kind));
        }
    }
    Ok(Arc::new(RowShape::new(scalars).with_arrays(arrays)))
}

fn step(step: &BatchStep) -> Result<pb::BatchStep, ConvertError> {
    let (stmt, shape_of, returns_rows) = match &step.operation {
        StepOperation::Execute(stmt) => (stmt, None, false),
        StepOperation::Query {
            statement,
            shape: s,
        } => (statement, s.as_deref().map(shape), true),
    };
    Ok(pb::BatchStep {
        name: step.name.clone(),
        statement: Some(statement(stmt)?),
        returns_rows,
        shape: shape_of,
        require_row: step.require_row,
    })
}

fn decode_step(s: pb::BatchStep) -> Result<BatchStep, ConvertError> {
    let stmt = decode_statement(
        s.statement
            .ok_or_else(|| ConvertError::missing("step statement"))?,
    )?;
    let operation = if s.returns_rows {
        StepOperation::Query {
            statement: stmt,
            shape: s.shape.map(decode_shape).transpose()?,
        }
    } else {
        StepOperation::Execute(stmt)
    };
    Ok(BatchStep {
        name: s.name,
        operation,
        require_row: s.require_row,
    })
}
