//! A Jepsen-style history: every call a writer made and its answer, and the check of what
//! the final database holds against it.

use std::collections::HashMap;
use std::sync::Mutex;

use repo_core::{CommitState, RepoError};

/// What one call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Acknowledged: the write must be in the final database exactly once.
    Ok,
    /// Failed, and said the write did not commit: it must be absent.
    NotCommitted(&'static str),
    /// Failed, and said the write committed or may have (at most once).
    Indeterminate(&'static str),
}

impl Answer {
    /// The answer a call's result stands for.
    pub fn of<T>(result: &Result<T, RepoError>) -> Self {
        match result {
            Ok(_) => Answer::Ok,
            Err(e) => match e.commit_state() {
                CommitState::NotCommitted => Answer::NotCommitted(e.kind()),
                CommitState::Unknown | CommitState::Committed => Answer::Indeterminate(e.kind()),
            },
        }
    }
}

/// Every call and its answer, by the call's unique key.
#[derive(Debug, Default)]
pub struct History {
    /// `(key, answer)` in the order answers came.
    calls: Mutex<Vec<(String, Answer)>>,
}

/// What the final database says about a history.
#[derive(Debug, Default, Clone)]
pub struct Verdict {
    /// Calls made.
    pub calls: usize,
    /// Calls acknowledged.
    pub acknowledged: usize,
    /// Acknowledged keys absent from the final database.
    pub lost: Vec<String>,
    /// Keys present more than once.
    pub duplicated: Vec<String>,
    /// Keys present although their call said it did not commit.
    pub phantom: Vec<String>,
    /// Keys present that no call made.
    pub unknown: Vec<String>,
    /// Error kinds seen, with their counts.
    pub errors: HashMap<&'static str, usize>,
}

impl History {
    /// Records `key`'s answer.
    pub fn record(&self, key: String, answer: Answer) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push((key, answer));
        }
    }

    /// Checks the history against `rows`, the keys the final database holds (one entry
    /// per row).
    pub fn check(&self, rows: &[String]) -> Verdict {
        let calls = self.calls.lock().map(|c| c.clone()).unwrap_or_default();
        let mut present: HashMap<&str, usize> = HashMap::new();
        for key in rows {
            *present.entry(key.as_str()).or_default() += 1;
        }
        let mut verdict = Verdict {
            calls: calls.len(),
            ..Verdict::default()
        };
        let mut made = std::collections::HashSet::new();
        for (key, answer) in &calls {
            made.insert(key.as_str());
            let count = present.get(key.as_str()).copied().unwrap_or(0);
            match answer {
                Answer::Ok => {
                    verdict.acknowledged += 1;
                    if count == 0 {
                        verdict.lost.push(key.clone());
                    }
                }
                Answer::NotCommitted(kind) => {
                    *verdict.errors.entry(kind).or_default() += 1;
                    if count > 0 {
                        verdict.phantom.push(key.clone());
                    }
                }
                Answer::Indeterminate(kind) => {
                    *verdict.errors.entry(kind).or_default() += 1;
                }
            }
        }
        for (key, count) in present {
            if count > 1 {
                verdict.duplicated.push(key.to_owned());
            }
            if !made.contains(key) {
                verdict.unknown.push(key.to_owned());
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_finds_lost_duplicated_and_phantom_writes() {
        let history = History::default();
        history.record("a".into(), Answer::Ok);
        history.record("b".into(), Answer::Ok);
        history.record("c".into(), Answer::NotCommitted("not_primary"));
        history.record("d".into(), Answer::Indeterminate("timeout"));
        let rows = ["a", "a", "c", "e"].map(String::from);
        let verdict = history.check(&rows);
        assert_eq!(verdict.acknowledged, 2);
        assert_eq!(verdict.lost, ["b"]);
        assert_eq!(verdict.duplicated, ["a"]);
        assert_eq!(verdict.phantom, ["c"]);
        assert_eq!(verdict.unknown, ["e"]);
    }
}
