//! Following LiteFS's HTTP API: `/info` at start, then the `/events` stream, reconnecting.
//!
//! The loop: read `/info` and publish it; follow `/events` until it fails or ends; read `/info`
//! again (so the state is fresh while disconnected, and [`PrimaryState::unknown`] if LiteFS does
//! not answer); wait the reconnect delay; follow `/events` again. The delay doubles while
//! connections fail and starts over after a connection that delivered events.

use futures::StreamExt;

use super::api::{ApiError, LiteFsApi};
use super::backoff::Backoff;
use super::config::TrackerConfig;
use super::events::{Event, parse_event};
use super::lines::{LineBuffer, LineError, MAX_LINE};
use super::publish::Publisher;
use super::state::PrimaryState;

/// How much of a skipped line goes into the log.
const LOGGED_LINE: usize = 200;

/// Follows the API at `config.api_url` forever (until the task is aborted), publishing what it
/// learns. Returns at once, after logging an error, if the URL is unusable.
pub(crate) async fn follow(config: TrackerConfig, publisher: Publisher) {
    let Some(url) = config.api_url.as_deref() else {
        return;
    };
    let api = match LiteFsApi::new(url, config.request_timeout) {
        Ok(api) => api,
        Err(err) => {
            tracing::error!(error = %err, "cannot follow LiteFS's API; the primary state stays unknown");
            return;
        }
    };
    let follower = Follower {
        api,
        publisher,
        own_hostname: config.self_hostname.clone(),
        backoff: Backoff::new(config.reconnect_delay, config.max_reconnect_delay),
    };
    follower.run().await;
}

/// How one `/events` connection ended.
enum StreamEnd {
    /// It could not be opened.
    NotConnected(ApiError),
    /// LiteFS closed it.
    Ended,
    /// The connection broke.
    Broken(reqwest::Error),
}

/// The loop's state.
struct Follower {
    /// The node's API.
    api: LiteFsApi,
    /// Where states go.
    publisher: Publisher,
    /// This node's hostname: configured, or learned when LiteFS named this node as the primary.
    own_hostname: Option<String>,
    /// Reconnect delays.
    backoff: Backoff,
}

impl Follower {
    async fn run(mut self) {
        self.refresh_from_info().await;
        loop {
            let (end, events) = self.follow_events().await;
            match &end {
                StreamEnd::NotConnected(err) => {
                    tracing::warn!(error = %err, "cannot open LiteFS /events; will retry");
                }
                StreamEnd::Ended => {
                    tracing::info!(events, "LiteFS closed the /events stream; reconnecting");
                }
                StreamEnd::Broken(err) => {
                    tracing::warn!(error = %err, events, "LiteFS /events stream broke; reconnecting");
                }
            }
            if events > 0 {
                self.backoff.reset();
            }
            self.refresh_from_info().await;
            let delay = self.backoff.next_delay();
            tracing::debug!(?delay, "waiting before reconnecting to LiteFS /events");
            tokio::time::sleep(delay).await;
        }
    }

    /// Reads `/info` and publishes it; publishes unknown when LiteFS does not answer.
    async fn refresh_from_info(&mut self) {
        match self.api.info().await {
            Ok(info) => {
                tracing::debug!(?info, "read LiteFS /info");
                if let Some(own) = info.own_hostname() {
                    self.own_hostname = Some(own);
                }
                if info.is_primary.is_none() {
                    tracing::warn!("LiteFS /info has no isPrimary; the role is unknown");
                }
                self.publisher
                    .publish(info.to_state(self.own_hostname.as_deref()));
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot read LiteFS /info; the role is unknown until it answers");
                self.publisher.publish(PrimaryState::unknown());
            }
        }
    }

    /// Follows one `/events` connection to its end; returns how it ended and how many valid
    /// events it delivered.
    async fn follow_events(&mut self) -> (StreamEnd, u64) {
        let response = match self.api.events().await {
            Ok(response) => response,
            Err(err) => return (StreamEnd::NotConnected(err), 0),
        };
        tracing::debug!("following LiteFS /events");
        let mut stream = std::pin::pin!(response.bytes_stream());
        let mut lines = LineBuffer::new(MAX_LINE);
        let mut events = 0;
        loop {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    for line in lines.push(&chunk) {
                        events += u64::from(self.handle_line(line).await);
                    }
                }
                Some(Err(err)) => return (StreamEnd::Broken(err), events),
                None => {
                    if let Some(line) = lines.finish() {
                        events += u64::from(self.handle_line(line).await);
                    }
                    return (StreamEnd::Ended, events);
                }
            }
        }
    }

    /// Applies one line; returns whether it was a valid event. Bad lines are logged and skipped.
    async fn handle_line(&mut self, line: Result<String, LineError>) -> bool {
        let line = match line {
            Ok(line) => line,
            Err(err) => {
                tracing::warn!(error = %err, "skipping an unreadable LiteFS /events line");
                return false;
            }
        };
        if line.trim().is_empty() {
            return false;
        }
        match parse_event(&line) {
            Ok(event) => {
                metrics::counter!("litefs_events_total", "type" => event.kind()).increment(1);
                self.apply(event).await;
                true
            }
            Err(err) => {
                metrics::counter!("litefs_events_total", "type" => "malformed").increment(1);
                let shown: String = line.chars().take(LOGGED_LINE).collect();
                tracing::warn!(error = %err, line = %shown, "skipping a malformed LiteFS /events line");
                false
            }
        }
    }

    async fn apply(&mut self, event: Event) {
        let report = match event {
            Event::Init(report) | Event::PrimaryChange(report) => report,
            Event::Tx { db } => {
                tracing::trace!(?db, "LiteFS tx event (ignored)");
                return;
            }
            Event::Other { kind } => {
                tracing::debug!(%kind, "ignoring a LiteFS event of unknown type");
                return;
            }
        };
        if report.is_primary
            && let Some(own) = report.hostname()
        {
            self.own_hostname = Some(own);
        }
        let state = report.to_state(self.own_hostname.as_deref());
        let unnamed_primary = state.is_primary() && state.primary.is_none();
        self.publisher.publish(state);
        if unnamed_primary {
            self.learn_own_hostname().await;
        }
    }

    /// This node became primary and nobody named it: ask `/info`, which names the primary.
    async fn learn_own_hostname(&mut self) {
        match self.api.info().await {
            Ok(info) => {
                if let Some(own) = info.own_hostname() {
                    if self.publisher.current().is_primary() {
                        self.publisher
                            .publish(PrimaryState::primary(Some(own.clone())));
                    }
                    self.own_hostname = Some(own);
                }
            }
            Err(err) => {
                tracing::debug!(error = %err, "cannot read this node's hostname from LiteFS /info");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn follower() -> (Follower, tokio::sync::watch::Receiver<PrimaryState>) {
        let (publisher, rx) = Publisher::new(PrimaryState::unknown());
        let api = LiteFsApi::new("http://127.0.0.1:20202", Duration::from_secs(1)).expect("url");
        let follower = Follower {
            api,
            publisher,
            own_hostname: Some("node-1".into()),
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(1)),
        };
        (follower, rx)
    }

    #[tokio::test]
    async fn only_role_events_change_the_state() {
        let (mut follower, mut rx) = follower();
        let init = r#"{"type":"init","data":{"isPrimary":false,"hostname":"node-2"}}"#;
        assert!(follower.handle_line(Ok(init.into())).await);
        assert_eq!(
            *rx.borrow_and_update(),
            PrimaryState::replica(Some("node-2".into()))
        );

        let ignored: [(Result<String, LineError>, bool); 9] = [
            (
                Ok(r#"{"type":"tx","db":"a.db","data":{"txID":"0000000000000001"}}"#.into()),
                true,
            ),
            (
                Ok(r#"{"type":"future","data":{"isPrimary":true,"hostname":"x"}}"#.into()),
                true,
            ),
            (Ok("garbage".into()), false),
            (Ok(r#"{"type":"primaryChange"}"#.into()), false),
            (
                Ok(r#"{"type":"init","data":{"hostname":"x"}}"#.into()),
                false,
            ),
            (Ok(String::new()), false),
            (Ok("  \t".into()), false),
            (Err(LineError::NotUtf8), false),
            (Err(LineError::TooLong { limit: 1 }), false),
        ];
        for (line, valid) in ignored {
            let shown = format!("{line:?}");
            assert_eq!(follower.handle_line(line).await, valid, "{shown}");
            assert!(
                !rx.has_changed().expect("open"),
                "{shown} changed the state"
            );
        }

        let promoted = r#"{"type":"primaryChange","data":{"isPrimary":true}}"#;
        assert!(follower.handle_line(Ok(promoted.into())).await);
        assert_eq!(
            *rx.borrow_and_update(),
            PrimaryState::primary(Some("node-1".into())),
            "the configured hostname names this node"
        );
    }
}
