//! A request's fingerprint: a SHA-256 digest of what it asks, stored with its ledger row,
//! so that a request id reused for another request is told apart from a replay.
//!
//! It covers the action (and a named transaction's name), and the operation in its wire
//! form: statements with their text and typed values, a transaction's arguments, a batch's
//! steps in order, the row shape a query returns. Not the table label, deadline,
//! consistency or origin: a replay through another node, later, is the same request.
//! The wire form is the protobuf encoding, which prost writes deterministically, so the
//! same request gives the same digest on every node of the same version.

use repo_core::Request;
use sha2::{Digest, Sha256};

use crate::convert::{encode_action, encode_operation};

/// The digest of what `request` asks.
pub(crate) fn fingerprint(request: &Request) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"litefs ledger fingerprint v1\0");
    let (action, transaction) = encode_action(&request.action);
    hasher.update((action as i32).to_be_bytes());
    hasher.update((transaction.len() as u64).to_be_bytes());
    hasher.update(transaction.as_bytes());
    match encode_operation(&request.operation) {
        Ok(operation) => {
            let mut wire = Vec::with_capacity(operation.encoded_len());
            operation.encode(&mut wire);
            hasher.update(wire);
        }
        // A value the wire cannot carry: the local path may still run it (it fails there
        // the same way). Its words stand for it.
        Err(e) => {
            hasher.update(b"unencodable\0");
            hasher.update(e.to_string().as_bytes());
        }
    }
    hasher.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use repo_core::{Action, Operation};
    use sea_orm::{DbBackend, Statement, Value};

    use super::*;

    fn insert(values: Vec<Value>) -> Request {
        Request::new(
            Action::Insert,
            "tags",
            Operation::Execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO tags (name) VALUES (?)",
                values,
            )),
        )
    }

    #[test]
    fn same_request_same_digest_whatever_id_label_or_deadline() {
        let a = insert(vec!["x".into()]);
        let mut b = insert(vec!["x".into()]);
        b.target = "other label".into();
        b.deadline = Some(tokio::time::Instant::now());
        assert_ne!(a.id, b.id);
        assert_eq!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn anything_asked_differently_changes_it() {
        let base = fingerprint(&insert(vec!["x".into()]));
        assert_ne!(base, fingerprint(&insert(vec!["y".into()])));
        // Same text, other type.
        assert_ne!(
            base,
            fingerprint(&insert(vec![Value::Bytes(Some(b"x".to_vec()))]))
        );
        let mut update = insert(vec!["x".into()]);
        update.action = Action::Update;
        assert_ne!(base, fingerprint(&update));
        let named = |args: &[u8]| {
            fingerprint(&Request::new(
                Action::Transaction("t.v1".into()),
                "t.v1",
                Operation::Transaction {
                    name: "t.v1".into(),
                    args: args.to_vec(),
                },
            ))
        };
        assert_ne!(named(b"1"), named(b"2"));
    }

    /// What a fingerprint costs per write, printed, never asserted:
    /// `cargo test --release -p repo-litefs --lib fingerprint_cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, run by hand"]
    fn fingerprint_cost() {
        let request = insert(vec!["a tag name".into()]);
        let posts = Request::new(
            Action::Insert,
            "posts",
            Operation::Execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "INSERT INTO \"posts\" (\"title\", \"slug\", \"body\", \"published\", \"created_at\") VALUES (?, ?, ?, ?, ?) RETURNING \"id\"",
                [
                    "A title".into(),
                    "a-slug".into(),
                    "x".repeat(500).into(),
                    false.into(),
                    sea_orm::Value::BigInt(Some(1_764_000_000)),
                ],
            )),
        );
        for (name, request) in [
            ("1-value insert", &request),
            ("5-column post insert", &posts),
        ] {
            let mut runs = Vec::new();
            for _ in 0..5 {
                let started = std::time::Instant::now();
                for _ in 0..20_000 {
                    std::hint::black_box(fingerprint(std::hint::black_box(request)));
                }
                runs.push(started.elapsed().as_nanos() / 20_000);
            }
            runs.sort_unstable();
            println!(
                "fingerprint of a {name}: {}-{} ns (5 runs of 20,000)",
                runs[0], runs[4]
            );
        }
    }
}
