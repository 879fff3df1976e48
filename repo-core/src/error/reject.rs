//! `RejectReason`: why a call was refused before it ran, typed, with bounded messages.

use std::fmt;

/// The most characters of text (a message, a name) a reason carries; longer text is cut
/// and ends with `…`, control characters are escaped. Reasons travel in gRPC statuses and
/// log lines, so nothing in them is unbounded.
pub const MAX_REASON_CHARS: usize = 512;

/// Why a call was refused before it ran. **Nothing was written.**
///
/// The primary's refusals arrive as the same reason on the replica that sent the write
/// (they are carried in the protocol), so callers match on them wherever the write ran:
///
/// ```
/// use repo_core::{RejectReason, RepoError, StatementRule};
///
/// fn explain(err: &RepoError) -> &'static str {
///     match err {
///         RepoError::Rejected { reason: RejectReason::Statement(s) }
///             if s.rule == StatementRule::NotDataChanging => "only INSERT/UPDATE/DELETE forward",
///         RepoError::Rejected { reason: RejectReason::Unauthenticated } => "check the secret",
///         RepoError::Rejected { .. } => "refused",
///         _ => "failed",
///     }
/// }
/// # let err = RepoError::Rejected { reason: RejectReason::layer("maintenance", "writes paused") };
/// # assert_eq!(explain(&err), "refused");
/// ```
///
/// A layer of the caller's own stack that refuses a call returns
/// `RepoError::Rejected { reason: RejectReason::layer(name, why) }`: it is never retried,
/// does not count against the circuit breaker, and says the write did not commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// The primary did not accept the caller's cluster secret (missing or wrong).
    #[error(
        "the primary did not accept this node's cluster secret (every node needs the same one)"
    )]
    Unauthenticated,
    /// The primary's allowlist refused a statement.
    #[error("{0}")]
    Statement(RejectedStatement),
    /// The request is larger than the receiving server accepts.
    #[error("{0}")]
    TooLarge(TooLarge),
    /// A transaction or batch-step name is too long or holds control characters.
    #[error(
        "a {part} name must be at most {limit} bytes without control characters \
         (got {bytes} bytes)"
    )]
    InvalidName {
        /// Whose name it is.
        part: NamedPart,
        /// Its length in bytes.
        bytes: u64,
        /// The longest name accepted, in bytes.
        limit: u64,
    },
    /// The request's id is a time-ordered one older than the primary's ledger retention:
    /// an attempt of it may have run and its record been pruned since, so running it again
    /// could run it twice. Refused instead; nothing was written. Start a new write.
    #[error(
        "the request is older than the primary's ledger retention ({}s): it may have run \
         already and its record is gone, so it is not run again; start a new write",
        retention_secs
    )]
    Expired {
        /// How long the primary's ledger keeps a request, in seconds.
        retention_secs: u64,
    },
    /// An outcome lookup with settling (`repo_litefs::Node::outcome`) declared this request
    /// not committed, so it never runs: the caller was told it did not commit. Nothing was
    /// written; start a new write.
    #[error(
        "an outcome lookup declared this request not committed, so it does not run; \
         start a new write"
    )]
    Abandoned,
    /// The primary is shutting down. Retrying is safe: another primary, or this one back,
    /// will take the write.
    #[error("the primary is shutting down")]
    ShuttingDown,
    /// A node's configuration does not allow the call (no endpoint for the primary's
    /// hostname, a secret that cannot be sent, …). Build with
    /// [`RejectReason::misconfigured`].
    #[error("misconfigured: {message}")]
    Misconfigured {
        /// What is wrong and which setting fixes it, bounded.
        message: String,
    },
    /// A layer of the caller's own stack refused the call. Build with
    /// [`RejectReason::layer`].
    #[error("refused by the layer `{layer}`: {message}")]
    Layer {
        /// The refusing layer's name, bounded.
        layer: String,
        /// Why, bounded.
        message: String,
    },
    /// A refusal that arrived without a type (from an older primary, or a proxy's status
    /// without details): its words only. Build with [`RejectReason::untyped`].
    #[error("{message}")]
    Untyped {
        /// What the refusing side said, bounded.
        message: String,
    },
}

impl RejectReason {
    /// [`RejectReason::Misconfigured`], with `message` bounded.
    pub fn misconfigured(message: &str) -> Self {
        Self::Misconfigured {
            message: bounded(message),
        }
    }

    /// [`RejectReason::Layer`]: the layer `layer` refused, because `message`; both bounded.
    pub fn layer(layer: &str, message: &str) -> Self {
        Self::Layer {
            layer: bounded(layer),
            message: bounded(message),
        }
    }

    /// [`RejectReason::Untyped`], with `message` bounded.
    pub fn untyped(message: &str) -> Self {
        Self::Untyped {
            message: bounded(message),
        }
    }

    /// A short stable label for metrics and logs: `unauthenticated`, `statement`,
    /// `too_large`, `invalid_name`, `expired`, `abandoned`, `shutting_down`, `misconfigured`, `layer`, `untyped`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Statement(_) => "statement",
            Self::TooLarge(_) => "too_large",
            Self::InvalidName { .. } => "invalid_name",
            Self::Expired { .. } => "expired",
            Self::Abandoned => "abandoned",
            Self::ShuttingDown => "shutting_down",
            Self::Misconfigured { .. } => "misconfigured",
            Self::Layer { .. } => "layer",
            Self::Untyped { .. } => "untyped",
        }
    }
}

/// A statement the primary's allowlist refused: which rule it broke, and the allowlist's
/// explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RejectedStatement {
    /// The rule the statement broke.
    pub rule: StatementRule,
    /// The allowlist's explanation, bounded (it quotes at most a short excerpt of the
    /// statement, escaped).
    pub message: String,
    /// The batch step whose statement it was, bounded; `None` for a single statement.
    pub step: Option<String>,
}

impl RejectedStatement {
    /// A refusal of a single statement under `rule`, with `message` bounded.
    pub fn new(rule: StatementRule, message: &str) -> Self {
        Self {
            rule,
            message: bounded(message),
            step: None,
        }
    }

    /// The same refusal, of the statement of the batch step `step` (bounded).
    pub fn in_step(mut self, step: &str) -> Self {
        self.step = Some(bounded(step));
        self
    }
}

impl fmt::Display for RejectedStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(step) = &self.step {
            write!(f, "step `{step}`: ")?;
        }
        write!(f, "statement refused by the primary: {}", self.message)
    }
}

/// The allowlist rule a statement broke, as a stable code (the message has the detail).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementRule {
    /// The text is not SQL the allowlist's parser understands.
    Unparsable,
    /// The text holds no statement.
    Empty,
    /// The text holds more than one statement.
    SeveralStatements,
    /// The statement does not (only) change rows: DDL, `PRAGMA`, `ATTACH`, a query, ….
    NotDataChanging,
    /// The statement writes something other than one plainly named table.
    UnsupportedTarget,
    /// The statement writes one of the database's internal tables.
    SystemTable,
    /// The statement calls a function that reaches outside the database.
    ForbiddenFunction,
    /// The statement text is longer than the primary allows.
    TooLong,
    /// The statement has more tokens than the primary allows.
    TooManyTokens,
    /// The statement nests parentheses deeper than the primary allows.
    TooDeep,
    /// An expression chains more operators than the primary allows.
    TooComplex,
    /// The statement holds a recursive common table expression.
    RecursiveCte,
    /// The statement touches a table the primary keeps for itself (the ledger).
    ReservedTable,
    /// A rule this version does not know (a newer primary): read the message.
    Other,
}

/// What was too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooLarge {
    /// The encoded message is over the receiving server's limit (or the sender's).
    #[error(
        "the message is larger than the receiving server accepts \
         (ServerConfig::max_message_bytes on the primary)"
    )]
    Message,
    /// A batch has more steps than the primary accepts.
    #[error(
        "a batch of {steps} steps is over the primary's limit of {limit} \
         (ServerConfig::max_batch_steps); split it"
    )]
    BatchSteps {
        /// How many steps the batch had.
        steps: u64,
        /// The most the primary accepts.
        limit: u64,
    },
    /// The message holds so many repeated elements (batch steps, values, shape columns) that
    /// decoding it would take more memory than the primary allows one message. Checked on
    /// the wire before anything is decoded.
    #[error(
        "the message would take about {bytes} bytes once decoded, over the primary's limit \
         of {limit} for one message (too many values, batch steps or columns); split it"
    )]
    Decoded {
        /// The decoded size, estimated from the element counts.
        bytes: u64,
        /// The most one message may take decoded.
        limit: u64,
    },
}

/// Whose name a [`RejectReason::InvalidName`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NamedPart {
    /// A named transaction's.
    Transaction,
    /// A batch (`Multi`) step's.
    Step,
}

impl fmt::Display for NamedPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Transaction => "transaction",
            Self::Step => "step",
        })
    }
}

/// At most [`MAX_REASON_CHARS`] characters of `text`, control characters escaped, cut with
/// `…`. The work is bounded by the limit, however long `text` is.
fn bounded(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_REASON_CHARS));
    let mut written = 0;
    for ch in text.chars() {
        let piece: String = if ch.is_control() {
            ch.escape_default().collect()
        } else {
            ch.to_string()
        };
        let len = piece.chars().count();
        if written + len > MAX_REASON_CHARS - 1 {
            out.push('…');
            return out;
        }
        out.push_str(&piece);
        written += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_bounded_and_escaped() {
        let long = RejectReason::misconfigured(&"x".repeat(1_000_000));
        assert!(long.to_string().chars().count() < MAX_REASON_CHARS + 20);
        assert!(long.to_string().ends_with('…'));
        let forged = RejectReason::layer("audit\n", "INFO forged\r\nline\u{1b}[31m");
        let text = forged.to_string();
        assert!(!text.contains(['\n', '\r', '\u{1b}']), "{text}");
        assert_eq!(RejectReason::untyped("plain").to_string(), "plain");
        let step = RejectedStatement::new(StatementRule::Empty, "no statement was given")
            .in_step(&"s".repeat(10_000));
        assert!(
            step.step
                .as_ref()
                .is_some_and(|s| s.chars().count() <= MAX_REASON_CHARS)
        );
    }

    #[test]
    fn statements_say_which_step() {
        let single = RejectedStatement::new(StatementRule::SeveralStatements, "two");
        assert_eq!(single.to_string(), "statement refused by the primary: two");
        assert_eq!(
            single.in_step("insert post").to_string(),
            "step `insert post`: statement refused by the primary: two"
        );
    }
}
