//! The checks on a request's shape that run before any statement is parsed: how many batch
//! steps, and what a transaction or step name may be. A name travels back in refusals and
//! logs, so it is bounded and plain before it is ever echoed.

use repo_core::{NamedPart, Operation, RejectReason, RepoError, Request, TooLarge};

/// The longest name of a named transaction or a batch step, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// Refuses a request whose shape exceeds `max_batch_steps` or carries a name that is too
/// long or holds control characters. Says why without echoing input.
pub(crate) fn check_shape(request: &Request, max_batch_steps: usize) -> Result<(), RepoError> {
    match &request.operation {
        Operation::Execute(_) | Operation::Query { .. } => Ok(()),
        Operation::Transaction { name, .. } => check_name(NamedPart::Transaction, name),
        Operation::Batch(steps) => {
            if steps.len() > max_batch_steps {
                return Err(RepoError::Rejected {
                    reason: RejectReason::TooLarge(TooLarge::BatchSteps {
                        steps: count(steps.len()),
                        limit: count(max_batch_steps),
                    }),
                });
            }
            steps
                .iter()
                .try_for_each(|s| check_name(NamedPart::Step, &s.name))
        }
    }
}

/// Whether `name` has at most [`MAX_NAME_BYTES`] and no control characters.
fn check_name(part: NamedPart, name: &str) -> Result<(), RepoError> {
    if name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(RepoError::Rejected {
            reason: RejectReason::InvalidName {
                part,
                bytes: count(name.len()),
                limit: count(MAX_NAME_BYTES),
            },
        });
    }
    Ok(())
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_bounded() {
        assert!(check_name(NamedPart::Transaction, "publish_post.v1").is_ok());
        assert!(check_name(NamedPart::Step, "insert post 1 — é").is_ok());
        assert!(check_name(NamedPart::Transaction, &"x".repeat(MAX_NAME_BYTES)).is_ok());
        for bad in ["a\nb", "a\u{1b}[31m", &"x".repeat(MAX_NAME_BYTES + 1)] {
            let err = check_name(NamedPart::Transaction, bad).expect_err(bad);
            assert!(
                matches!(
                    err,
                    RepoError::Rejected {
                        reason: RejectReason::InvalidName {
                            part: NamedPart::Transaction,
                            ..
                        }
                    }
                ),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(message.len() < 200, "bounded: {message}");
            assert!(!message.contains(['\n', '\u{1b}']), "no echo: {message}");
        }
    }
}
