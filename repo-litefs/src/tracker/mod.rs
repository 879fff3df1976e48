//! Primary tracking: this node's [`Role`] and the current primary's hostname, held in memory
//! and kept up to date in the background from LiteFS.
//!
//! Deciding where a write goes reads [`PrimaryTracker::current`] (or
//! [`PrimaryTracker::is_primary`]): a lock and a clone, never I/O.
//!
//! # Sources
//!
//! [`PrimaryTracker::spawn`] picks one source from its [`TrackerConfig`], in this order:
//!
//! 1. **LiteFS's HTTP API** ([`TrackerConfig::api_url`]), the reliable source: `GET /info` at
//!    start, then the `GET /events` stream (`init` and `primaryChange` events carry
//!    `isPrimary` and the primary's hostname; `tx` and unknown events are ignored, malformed
//!    lines are logged and skipped). When the stream fails or ends, `/info` is read again (the
//!    state becomes [`Role::Unknown`] if LiteFS does not answer), and the tracker reconnects
//!    after [`TrackerConfig::reconnect_delay`], doubling up to
//!    [`TrackerConfig::max_reconnect_delay`] while attempts fail.
//! 2. **The `.primary` file** in LiteFS's FUSE mount ([`TrackerConfig::mount_dir`]), read every
//!    [`TrackerConfig::poll_interval`]. It names the primary only on a replica *connected* to
//!    it, and is absent both on the primary and on a replica that lost its primary, so its
//!    absence means [`Role::Unknown`], never [`Role::Primary`]: with this source the primary
//!    itself stays unknown. Use the HTTP API wherever this node may be primary.
//! 3. **None**: the state stays [`Role::Unknown`]. For a static setup with a fixed primary, use
//!    [`PrimaryTracker::manual`] and set the state once.
//!
//! # Metrics
//!
//! - `litefs_primary_changes_total` (counter): published state changes (role or primary
//!   hostname). Each is also logged at info.
//! - `litefs_is_primary` (gauge): 1 while this node is the primary, else 0.
//! - `litefs_events_total` (counter, label `type`: `init`, `primaryChange`, `tx`, `other`,
//!   `malformed`): lines read from `/events`, by what they parsed as.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use repo_litefs::tracker::{PrimaryTracker, TrackerConfig};
//!
//! # async fn run() -> Result<(), repo_litefs::tracker::TrackerError> {
//! let tracker = PrimaryTracker::spawn(TrackerConfig::new().api_url("http://127.0.0.1:20202"));
//! let state = tracker.wait_for_primary(Duration::from_secs(5)).await?;
//! match state.forward_to() {
//!     None => println!("this node is the primary: write locally"),
//!     Some(primary) => println!("forward writes to {primary}"),
//! }
//! # Ok(())
//! # }
//! ```

mod api;
mod backoff;
mod config;
mod error;
mod events;
mod file;
mod handle;
mod http;
mod info;
mod lines;
mod publish;
mod state;

use crate::supervise::supervised;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::TrackerConfig;
pub use error::TrackerError;
pub use handle::PrimaryHandle;
pub use state::{PrimaryState, Role};

use publish::Publisher;

/// This node's role and the current primary, in memory; cheap to clone.
///
/// Made by [`spawn`](Self::spawn) (updated in the background from LiteFS) or
/// [`manual`](Self::manual) (updated through a [`PrimaryHandle`]). The background task stops
/// when the last clone is dropped; receivers from [`subscribe`](Self::subscribe) then see the
/// channel closed.
#[derive(Debug, Clone)]
pub struct PrimaryTracker {
    /// The latest published state.
    state: watch::Receiver<PrimaryState>,
    /// Keeps the background source running while any clone lives (`None` for manual trackers).
    _background: Option<Arc<Background>>,
}

/// The background source of a spawned tracker, aborted when dropped.
#[derive(Debug)]
struct Background {
    /// The task reading LiteFS, if a source is configured.
    task: Option<JoinHandle<()>>,
    /// Keeps the channel open even if the task ended (an unusable `api_url`), so waiters time out
    /// with [`TrackerError::PrimaryUnavailable`] instead of seeing it closed.
    _publisher: Publisher,
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

impl PrimaryTracker {
    /// Starts tracking LiteFS as `config` says (see the [module docs](self) for the sources),
    /// on the current Tokio runtime. The state is [`Role::Unknown`] until the source answers.
    ///
    /// # Panics
    ///
    /// When called outside a Tokio runtime.
    pub fn spawn(config: TrackerConfig) -> Self {
        let (publisher, state) = Publisher::new(PrimaryState::unknown());
        let task = if config.api_url.is_some() {
            if config.mount_dir.is_some() {
                tracing::debug!("LiteFS api_url is set: mount_dir (.primary) is not polled");
            }
            let publisher = publisher.clone();
            Some(supervised("tracker", move || {
                http::follow(config.clone(), publisher.clone())
            }))
        } else if let Some(dir) = config.mount_dir.clone() {
            let (interval, publisher) = (config.poll_interval, publisher.clone());
            Some(supervised("tracker", move || {
                file::poll(dir.clone(), interval, publisher.clone())
            }))
        } else {
            tracing::warn!(
                "no LiteFS source configured (api_url or mount_dir): the primary stays unknown"
            );
            None
        };
        Self {
            state,
            _background: Some(Arc::new(Background {
                task,
                _publisher: publisher,
            })),
        }
    }

    /// A tracker with no background I/O whose state is set through the returned handle.
    ///
    /// ```
    /// use repo_litefs::tracker::{PrimaryState, PrimaryTracker};
    ///
    /// let (tracker, handle) = PrimaryTracker::manual(PrimaryState::unknown());
    /// handle.set(PrimaryState::replica(Some("node-2".into())));
    /// assert_eq!(tracker.current().forward_to(), Some("node-2"));
    /// ```
    pub fn manual(initial: PrimaryState) -> (Self, PrimaryHandle) {
        let (publisher, state) = Publisher::new(initial);
        let tracker = Self {
            state,
            _background: None,
        };
        (tracker, PrimaryHandle::new(publisher))
    }

    /// The state now known. No I/O.
    pub fn current(&self) -> PrimaryState {
        self.state.borrow().clone()
    }

    /// Whether this node is the primary now. No I/O, no allocation.
    pub fn is_primary(&self) -> bool {
        self.state.borrow().is_primary()
    }

    /// A receiver of every later change (its current value counts as seen).
    pub fn subscribe(&self) -> watch::Receiver<PrimaryState> {
        let mut receiver = self.state.clone();
        receiver.mark_unchanged();
        receiver
    }

    /// Returns as soon as a primary is known ([`PrimaryState::primary_known`]: this node is the
    /// primary, or a replica that knows the primary's hostname), at once if it already is.
    ///
    /// # Errors
    ///
    /// [`TrackerError::PrimaryUnavailable`] when none is known within `timeout`;
    /// [`TrackerError::Closed`] when nothing can update the state any more.
    pub async fn wait_for_primary(&self, timeout: Duration) -> Result<PrimaryState, TrackerError> {
        let mut receiver = self.state.clone();
        let waited = tokio::time::timeout(timeout, receiver.wait_for(PrimaryState::primary_known));
        match waited.await {
            Ok(Ok(state)) => Ok(state.clone()),
            Ok(Err(_closed)) => Err(TrackerError::Closed),
            Err(_elapsed) => Err(TrackerError::PrimaryUnavailable { waited: timeout }),
        }
    }
}
