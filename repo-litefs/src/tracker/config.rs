//! Where [`PrimaryTracker::spawn`](super::PrimaryTracker::spawn) reads LiteFS's state from, and
//! how often.

use std::path::PathBuf;
use std::time::Duration;

/// Settings for [`PrimaryTracker::spawn`](super::PrimaryTracker::spawn), built with chained
/// setters from [`TrackerConfig::new`].
///
/// The source is chosen once: the HTTP API when [`api_url`](Self::api_url) is set, else
/// `.primary` polling when [`mount_dir`](Self::mount_dir) is set, else none (the state stays
/// [`Role::Unknown`](super::Role::Unknown)).
///
/// ```
/// use std::time::Duration;
/// use repo_litefs::tracker::TrackerConfig;
///
/// let config = TrackerConfig::new()
///     .api_url("http://127.0.0.1:20202")
///     .reconnect_delay(Duration::from_millis(500))
///     .self_hostname("node-1");
/// ```
#[derive(Clone, Debug)]
pub struct TrackerConfig {
    /// Base URL of this node's LiteFS HTTP API; the preferred source because `/info` and
    /// `/events` say outright whether this node is the primary.
    pub(super) api_url: Option<String>,
    /// LiteFS's FUSE mount (`fuse.dir`), whose `.primary` file is polled when there is no API URL.
    pub(super) mount_dir: Option<PathBuf>,
    /// How often `.primary` is read.
    pub(super) poll_interval: Duration,
    /// First wait before reconnecting to `/events` after it failed or ended.
    pub(super) reconnect_delay: Duration,
    /// Cap on the reconnect wait, which doubles while attempts keep failing.
    pub(super) max_reconnect_delay: Duration,
    /// Bound on one `/info` request and on connecting to `/events`.
    pub(super) request_timeout: Duration,
    /// This node's own hostname, used as the primary's name when LiteFS says "you are primary"
    /// without naming itself.
    pub(super) self_hostname: Option<String>,
}

impl TrackerConfig {
    /// Default `.primary` polling interval: 1 s.
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
    /// Default first reconnect delay after `/events` fails: 1 s.
    pub const DEFAULT_RECONNECT_DELAY: Duration = Duration::from_secs(1);
    /// Default cap on the reconnect delay: 30 s.
    pub const DEFAULT_MAX_RECONNECT_DELAY: Duration = Duration::from_secs(30);
    /// Default bound on an `/info` request or an `/events` connect: 5 s.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

    /// A configuration with no source and the default timings.
    pub fn new() -> Self {
        Self {
            api_url: None,
            mount_dir: None,
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
            reconnect_delay: Self::DEFAULT_RECONNECT_DELAY,
            max_reconnect_delay: Self::DEFAULT_MAX_RECONNECT_DELAY,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            self_hostname: None,
        }
    }

    /// Follows LiteFS's HTTP API at `url` (e.g. `http://127.0.0.1:20202`, LiteFS's `http.addr`).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// Polls `<dir>/.primary` (LiteFS's `fuse.dir`, usually `/litefs`) when no API URL is set.
    pub fn mount_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.mount_dir = Some(dir.into());
        self
    }

    /// How often `.primary` is read (default [`Self::DEFAULT_POLL_INTERVAL`]).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// First wait before reconnecting to `/events` (default [`Self::DEFAULT_RECONNECT_DELAY`]);
    /// it doubles while reconnects keep failing, up to [`max_reconnect_delay`](Self::max_reconnect_delay).
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.reconnect_delay = delay;
        self
    }

    /// Cap on the reconnect wait (default [`Self::DEFAULT_MAX_RECONNECT_DELAY`]).
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// Bound on one `/info` request and on connecting to `/events` (default
    /// [`Self::DEFAULT_REQUEST_TIMEOUT`]). The `/events` stream itself has no timeout: LiteFS
    /// sends nothing on it while nothing happens.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// This node's hostname as LiteFS knows it (`lease.hostname`). Used to name the primary when
    /// this node is primary and LiteFS's event does not say its own name.
    pub fn self_hostname(mut self, hostname: impl Into<String>) -> Self {
        self.self_hostname = Some(hostname.into());
        self
    }
}

impl Default for TrackerConfig {
    fn default() -> Self {
        Self::new()
    }
}
