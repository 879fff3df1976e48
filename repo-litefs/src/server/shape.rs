//! The checks on a request's shape that run before any statement is parsed: how many batch
//! steps, and what a transaction or step name may be. A name travels back in refusals and
//! logs, so it is bounded and plain before it is ever echoed.

use repo_core::{Operation, RepoError, Request};

/// The longest name of a named transaction or a batch step, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// Refuses a request whose shape exceeds `max_batch_steps` or carries a name that is too
/// long or holds control characters. Says why without echoing input.
pub(crate) fn check_shape(request: &Request, max_batch_steps: usize) -> Result<(), RepoError> {
    match &request.operation {
        Operation::Execute(_) | Operation::Query { .. } => Ok(()),
        Operation::Transaction { name, .. } => check_name("transaction", name),
        Operation::Batch(steps) => {
            if steps.len() > max_batch_steps {
                return Err(RepoError::Rejected {
                    reason: format!(
                        "a batch of {} steps is over the limit of {max_batch_steps} \
                         (ServerConfig::max_batch_steps); split it",
                        steps.len()
                    ),
                });
            }
            steps.iter().try_for_each(|s| check_name("step", &s.name))
        }
    }
}

/// Whether `name` has at most [`MAX_NAME_BYTES`] and no control characters.
fn check_name(what: &str, name: &str) -> Result<(), RepoError> {
    if name.len() > MAX_NAME_BYTES || name.chars().any(char::is_control) {
        return Err(RepoError::Rejected {
            reason: format!(
                "a {what} name must be at most {MAX_NAME_BYTES} bytes without control \
                 characters (got {} bytes)",
                name.len()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_plain_and_bounded() {
        assert!(check_name("transaction", "publish_post.v1").is_ok());
        assert!(check_name("step", "insert post 1 — é").is_ok());
        assert!(check_name("transaction", &"x".repeat(MAX_NAME_BYTES)).is_ok());
        for bad in ["a\nb", "a\u{1b}[31m", &"x".repeat(MAX_NAME_BYTES + 1)] {
            let err = check_name("transaction", bad).expect_err(bad);
            let message = err.to_string();
            assert!(message.len() < 200, "bounded: {message}");
            assert!(!message.contains(['\n', '\u{1b}']), "no echo: {message}");
        }
    }
}
