//! Outcomes: `repo_core::Outcome` ⇄ `pb::Outcome`.

use repo_core::{ExecSummary, Outcome, Row};

use super::ConvertError;
use super::value::{decode_value, encode_value};
use crate::proto as pb;

/// Encodes what an operation produced.
pub fn encode_outcome(outcome: &Outcome) -> Result<pb::Outcome, ConvertError> {
    use pb::outcome::Outcome as O;
    let encoded = match outcome {
        Outcome::Executed(s) => O::Executed(pb::ExecSummary {
            rows_affected: s.rows_affected,
            last_insert_id: s.last_insert_id,
        }),
        Outcome::Rows(rows) => O::Rows(pb::Rows {
            rows: rows.iter().map(row).collect::<Result<_, _>>()?,
        }),
        Outcome::Transaction(output) => O::TransactionOutput(output.clone()),
        Outcome::Batch(outcomes) => O::Batch(pb::BatchOutcome {
            outcomes: outcomes
                .iter()
                .map(encode_outcome)
                .collect::<Result<_, _>>()?,
        }),
    };
    Ok(pb::Outcome {
        outcome: Some(encoded),
    })
}

/// Decodes an outcome sent by [`encode_outcome`].
pub fn decode_outcome(outcome: pb::Outcome) -> Result<Outcome, ConvertError> {
    use pb::outcome::Outcome as O;
    Ok(
        match outcome
            .outcome
            .ok_or_else(|| ConvertError::missing("outcome"))?
        {
            O::Executed(s) => Outcome::Executed(ExecSummary {
                rows_affected: s.rows_affected,
                last_insert_id: s.last_insert_id,
            }),
            O::Rows(rows) => Outcome::Rows(
                rows.rows
                    .into_iter()
                    .map(decode_row)
                    .collect::<Result<_, _>>()?,
            ),
            O::TransactionOutput(output) => Outcome::Transaction(output),
            O::Batch(b) => Outcome::Batch(
                b.outcomes
                    .into_iter()
                    .map(decode_outcome)
                    .collect::<Result<_, _>>()?,
            ),
        },
    )
}

fn row(row: &Row) -> Result<pb::Row, ConvertError> {
    Ok(pb::Row {
        columns: row.columns.clone(),
        values: row
            .values
            .iter()
            .map(encode_value)
            .collect::<Result<_, _>>()?,
    })
}

fn decode_row(row: pb::Row) -> Result<Row, ConvertError> {
    if row.columns.len() != row.values.len() {
        return Err(ConvertError(format!(
            "a row with {} columns and {} values",
            row.columns.len(),
            row.values.len()
        )));
    }
    Ok(Row {
        columns: row.columns,
        values: row
            .values
            .into_iter()
            .map(decode_value)
            .collect::<Result<_, _>>()?,
    })
}
