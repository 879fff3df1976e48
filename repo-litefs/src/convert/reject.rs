//! Refusals: `repo_core::RejectReason` ⇄ `pb::Rejection`.
//!
//! Decoding bounds every text again (the constructors of `repo-core` do) and never fails:
//! a rejection this version cannot read (no reason, an unknown name part) becomes an
//! untyped reason with the status's own message.

use repo_core::{NamedPart, RejectReason, RejectedStatement, StatementRule, TooLarge};

use crate::proto as pb;

/// Encodes why a request was refused.
pub(crate) fn encode_rejection(reason: &RejectReason) -> pb::Rejection {
    use pb::rejection::Reason as R;
    let encoded = match reason {
        RejectReason::Unauthenticated => R::Unauthenticated(true),
        RejectReason::Expired { retention_secs } => R::ExpiredRetentionSecs(*retention_secs),
        RejectReason::Abandoned => R::Abandoned(true),
        RejectReason::Statement(s) => R::Statement(pb::RejectedStatement {
            rule: rule(s.rule) as i32,
            message: s.message.clone(),
            step: s.step.clone(),
        }),
        RejectReason::TooLarge(t) => R::TooLarge(pb::TooLarge {
            what: Some(match t {
                TooLarge::Message => pb::too_large::What::Message(true),
                TooLarge::BatchSteps { steps, limit } => {
                    pb::too_large::What::BatchSteps(pb::BatchSteps {
                        steps: *steps,
                        limit: *limit,
                    })
                }
                TooLarge::Decoded { bytes, limit } => {
                    pb::too_large::What::Decoded(pb::DecodedSize {
                        bytes: *bytes,
                        limit: *limit,
                    })
                }
            }),
        }),
        RejectReason::InvalidName { part, bytes, limit } => R::InvalidName(pb::InvalidName {
            part: match part {
                NamedPart::Transaction => pb::NamedPart::Transaction,
                NamedPart::Step => pb::NamedPart::Step,
            } as i32,
            bytes: *bytes,
            limit: *limit,
        }),
        RejectReason::ShuttingDown => R::ShuttingDown(true),
        RejectReason::Misconfigured { message } => R::Misconfigured(message.clone()),
        RejectReason::Layer { layer, message } => R::Layer(pb::LayerRejection {
            layer: layer.clone(),
            message: message.clone(),
        }),
        RejectReason::Untyped { message } => R::Untyped(message.clone()),
    };
    pb::Rejection {
        reason: Some(encoded),
    }
}

/// Decodes a rejection sent by [`encode_rejection`]; `words` is the status message, the
/// fallback for a rejection this version cannot read.
pub(crate) fn decode_rejection(rejection: pb::Rejection, words: &str) -> RejectReason {
    use pb::rejection::Reason as R;
    let untyped = || RejectReason::untyped(words);
    match rejection.reason {
        None => untyped(),
        Some(R::Unauthenticated(_)) => RejectReason::Unauthenticated,
        Some(R::Statement(s)) => {
            let statement = RejectedStatement::new(decode_rule(s.rule), &s.message);
            RejectReason::Statement(match s.step {
                Some(step) => statement.in_step(&step),
                None => statement,
            })
        }
        Some(R::TooLarge(t)) => match t.what {
            Some(pb::too_large::What::Message(_)) => RejectReason::TooLarge(TooLarge::Message),
            Some(pb::too_large::What::BatchSteps(b)) => {
                RejectReason::TooLarge(TooLarge::BatchSteps {
                    steps: b.steps,
                    limit: b.limit,
                })
            }
            Some(pb::too_large::What::Decoded(d)) => RejectReason::TooLarge(TooLarge::Decoded {
                bytes: d.bytes,
                limit: d.limit,
            }),
            None => untyped(),
        },
        Some(R::InvalidName(n)) => match pb::NamedPart::try_from(n.part) {
            Ok(pb::NamedPart::Transaction) => invalid_name(NamedPart::Transaction, &n),
            Ok(pb::NamedPart::Step) => invalid_name(NamedPart::Step, &n),
            Ok(pb::NamedPart::Unspecified) | Err(_) => untyped(),
        },
        Some(R::ShuttingDown(_)) => RejectReason::ShuttingDown,
        Some(R::ExpiredRetentionSecs(retention_secs)) => RejectReason::Expired { retention_secs },
        Some(R::Abandoned(_)) => RejectReason::Abandoned,
        Some(R::Misconfigured(message)) => RejectReason::misconfigured(&message),
        Some(R::Layer(l)) => RejectReason::layer(&l.layer, &l.message),
        Some(R::Untyped(message)) => RejectReason::untyped(&message),
    }
}

fn invalid_name(part: NamedPart, name: &pb::InvalidName) -> RejectReason {
    RejectReason::InvalidName {
        part,
        bytes: name.bytes,
        limit: name.limit,
    }
}

fn rule(rule: StatementRule) -> pb::StatementRule {
    use pb::StatementRule as P;
    match rule {
        StatementRule::Unparsable => P::Unparsable,
        StatementRule::Empty => P::Empty,
        StatementRule::SeveralStatements => P::SeveralStatements,
        StatementRule::NotDataChanging => P::NotDataChanging,
        StatementRule::UnsupportedTarget => P::UnsupportedTarget,
        StatementRule::SystemTable => P::SystemTable,
        StatementRule::ForbiddenFunction => P::ForbiddenFunction,
        StatementRule::TooLong => P::TooLong,
        StatementRule::TooManyTokens => P::TooManyTokens,
        StatementRule::TooDeep => P::TooDeep,
        StatementRule::TooComplex => P::TooComplex,
        StatementRule::RecursiveCte => P::RecursiveCte,
        StatementRule::ReservedTable => P::ReservedTable,
        StatementRule::Other => P::Unspecified,
    }
}

fn decode_rule(rule: i32) -> StatementRule {
    use pb::StatementRule as P;
    match P::try_from(rule) {
        Ok(P::Unparsable) => StatementRule::Unparsable,
        Ok(P::Empty) => StatementRule::Empty,
        Ok(P::SeveralStatements) => StatementRule::SeveralStatements,
        Ok(P::NotDataChanging) => StatementRule::NotDataChanging,
        Ok(P::UnsupportedTarget) => StatementRule::UnsupportedTarget,
        Ok(P::SystemTable) => StatementRule::SystemTable,
        Ok(P::ForbiddenFunction) => StatementRule::ForbiddenFunction,
        Ok(P::TooLong) => StatementRule::TooLong,
        Ok(P::TooManyTokens) => StatementRule::TooManyTokens,
        Ok(P::TooDeep) => StatementRule::TooDeep,
        Ok(P::TooComplex) => StatementRule::TooComplex,
        Ok(P::RecursiveCte) => StatementRule::RecursiveCte,
        Ok(P::ReservedTable) => StatementRule::ReservedTable,
        Ok(P::Unspecified) | Err(_) => StatementRule::Other,
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use repo_core::RepoError;
    use repo_core::spi::StatusClass;
    use tonic::{Code, Status};

    use super::*;
    use crate::convert::{error_from_status, status_from_error};

    fn every_reason() -> Vec<RejectReason> {
        vec![
            RejectReason::Unauthenticated,
            RejectReason::Statement(RejectedStatement::new(
                StatementRule::NotDataChanging,
                "DROP TABLE statements may not be forwarded",
            )),
            RejectReason::Statement(
                RejectedStatement::new(StatementRule::ReservedTable, "the ledger").in_step("s1"),
            ),
            RejectReason::Statement(RejectedStatement::new(StatementRule::Other, "new rule")),
            RejectReason::TooLarge(TooLarge::Message),
            RejectReason::TooLarge(TooLarge::BatchSteps {
                steps: 1_001,
                limit: 1_000,
            }),
            RejectReason::TooLarge(TooLarge::Decoded {
                bytes: 200_000_000,
                limit: 8_388_608,
            }),
            RejectReason::InvalidName {
                part: NamedPart::Step,
                bytes: 129,
                limit: 128,
            },
            RejectReason::ShuttingDown,
            RejectReason::Expired {
                retention_secs: 86_400,
            },
            RejectReason::Abandoned,
            RejectReason::misconfigured("no endpoint for node-9"),
            RejectReason::layer("maintenance", "writes are paused"),
            RejectReason::untyped("no"),
        ]
    }

    fn expected_code(class: StatusClass) -> Code {
        match class {
            StatusClass::Unauthenticated => Code::Unauthenticated,
            StatusClass::InvalidArgument => Code::InvalidArgument,
            StatusClass::OutOfRange => Code::OutOfRange,
            StatusClass::Unavailable => Code::Unavailable,
            StatusClass::FailedPrecondition => Code::FailedPrecondition,
            StatusClass::PermissionDenied => Code::PermissionDenied,
            other => panic!("no refusal is {other:?}"),
        }
    }

    #[tokio::test]
    async fn every_reason_crosses_the_wire_typed() {
        for reason in every_reason() {
            let err = RepoError::Rejected {
                reason: reason.clone(),
            };
            let status = status_from_error(&err);
            assert_eq!(
                status.code(),
                expected_code(reason.status_class()),
                "{reason:?}"
            );
            assert_eq!(status.message(), err.to_string());
            let back = error_from_status(&status, "node-1").await;
            assert!(
                matches!(&back, RepoError::Rejected { reason: r } if *r == reason),
                "{reason:?} became {back:?}"
            );
            assert_eq!(back.is_transient(), err.is_transient());
        }
    }

    #[tokio::test]
    async fn statuses_without_details_are_typed_by_their_code() {
        let unauthenticated = Status::unauthenticated("wrong cluster secret");
        assert!(matches!(
            error_from_status(&unauthenticated, "node-1").await,
            RepoError::Rejected {
                reason: RejectReason::Unauthenticated
            }
        ));
        let too_large = Status::out_of_range("decoded message length too large");
        assert!(matches!(
            error_from_status(&too_large, "node-1").await,
            RepoError::Rejected {
                reason: RejectReason::TooLarge(TooLarge::Message)
            }
        ));
    }

    #[tokio::test]
    async fn an_older_primarys_string_and_unreadable_rejections_are_untyped() {
        let legacy = pb::ForwardError {
            error: Some(pb::forward_error::Error::Refused("no DDL".into())),
        };
        let status = Status::with_details(
            Code::InvalidArgument,
            "refused",
            legacy.encode_to_vec().into(),
        );
        assert!(matches!(
            error_from_status(&status, "node-1").await,
            RepoError::Rejected { reason: RejectReason::Untyped { message } } if message == "no DDL"
        ));
        let empty = pb::Rejection { reason: None };
        assert_eq!(
            decode_rejection(empty, "the words"),
            RejectReason::untyped("the words")
        );
        let bad_part = pb::Rejection {
            reason: Some(pb::rejection::Reason::InvalidName(pb::InvalidName {
                part: 77,
                bytes: 1,
                limit: 1,
            })),
        };
        assert_eq!(decode_rejection(bad_part, "w"), RejectReason::untyped("w"));
        let unknown_rule = pb::RejectedStatement {
            rule: 999,
            message: "x".repeat(100_000),
            step: None,
        };
        let reason = decode_rejection(
            pb::Rejection {
                reason: Some(pb::rejection::Reason::Statement(unknown_rule)),
            },
            "w",
        );
        let RejectReason::Statement(s) = reason else {
            panic!("{reason:?}")
        };
        assert_eq!(s.rule, StatementRule::Other);
        assert!(
            s.message.chars().count() <= repo_core::spi::MAX_REASON_CHARS,
            "bounded again"
        );
    }
}
