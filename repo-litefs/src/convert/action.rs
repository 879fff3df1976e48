//! Actions: `repo_core::Action` ⇄ `pb::Action` and the transaction name beside it.

use repo_core::Action;

use super::ConvertError;
use crate::proto as pb;

/// The wire form of `action`: the enum, and the name of a named transaction (empty for
/// every other action).
pub(crate) fn encode_action(action: &Action) -> (pb::Action, String) {
    match action {
        Action::Insert => (pb::Action::Insert, String::new()),
        Action::Update => (pb::Action::Update, String::new()),
        Action::Delete => (pb::Action::Delete, String::new()),
        Action::InsertOrUpdate => (pb::Action::InsertOrUpdate, String::new()),
        Action::InsertAll => (pb::Action::InsertAll, String::new()),
        Action::UpdateAll => (pb::Action::UpdateAll, String::new()),
        Action::DeleteAll => (pb::Action::DeleteAll, String::new()),
        Action::Transaction(name) => (pb::Action::Transaction, name.clone()),
        Action::Multi => (pb::Action::Multi, String::new()),
        Action::Execute => (pb::Action::Execute, String::new()),
    }
}

/// The action of a request; `action` is the raw enum value (unknown values are refused).
pub(crate) fn decode_action(action: i32, transaction: String) -> Result<Action, ConvertError> {
    let action = pb::Action::try_from(action)
        .map_err(|_| ConvertError(format!("unknown action {action}")))?;
    if action != pb::Action::Transaction && !transaction.is_empty() {
        return Err(ConvertError(
            "a transaction name was sent with an action that is not a transaction".into(),
        ));
    }
    Ok(match action {
        pb::Action::Unspecified => return Err(ConvertError::missing("action")),
        pb::Action::Insert => Action::Insert,
        pb::Action::Update => Action::Update,
        pb::Action::Delete => Action::Delete,
        pb::Action::InsertOrUpdate => Action::InsertOrUpdate,
        pb::Action::InsertAll => Action::InsertAll,
        pb::Action::UpdateAll => Action::UpdateAll,
        pb::Action::DeleteAll => Action::DeleteAll,
        pb::Action::Transaction => Action::Transaction(transaction),
        pb::Action::Multi => Action::Multi,
        pb::Action::Execute => Action::Execute,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_round_trips() {
        for action in [
            Action::Insert,
            Action::Update,
            Action::Delete,
            Action::InsertOrUpdate,
            Action::InsertAll,
            Action::UpdateAll,
            Action::DeleteAll,
            Action::Transaction("publish.v1".into()),
            Action::Transaction(String::new()),
            Action::Multi,
            Action::Execute,
        ] {
            let (wire, name) = encode_action(&action);
            assert_eq!(decode_action(wire as i32, name), Ok(action));
        }
    }

    #[test]
    fn missing_unknown_and_inconsistent_actions_are_refused() {
        assert!(decode_action(0, String::new()).is_err());
        assert!(decode_action(99, String::new()).is_err());
        assert!(decode_action(pb::Action::Insert as i32, "publish.v1".into()).is_err());
    }
}
