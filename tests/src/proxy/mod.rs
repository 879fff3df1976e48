//! A TCP proxy between nodes on loopback, for what a network does to a cluster: a fixed
//! one-way delay in both directions (a region away), a direction held (bytes stop
//! flowing, nothing is lost), connections cut (a partition).
//!
//! Each direction of each connection is a delay line (`delay_line.rs`): a chunk read at `t` is
//! written at `t + delay`, in order, while later chunks keep being read, so the delay adds
//! latency without limiting throughput (as a long link does, unlike a sleep per chunk).
//! A half-close (EOF) travels the line like data and arrives `delay` later; a reset or a
//! write failure on either side closes the whole connection.
//!
//! ```no_run
//! # async fn f(primary: std::net::SocketAddr) {
//! use std::time::Duration;
//! use repo_tests::proxy::Proxy;
//!
//! // 25 ms each way: a 50 ms round trip to `primary`.
//! let link = Proxy::with_delay(primary, Duration::from_millis(25)).await;
//! let endpoint = format!("http://{}", link.addr);
//! # }
//! ```
//!
//! Not modelled: TCP's handshake (a connection is established at once; only its bytes are
//! delayed), loss, jitter and bandwidth limits. Tokio's timer has millisecond resolution,
//! so each chunk arrives between `delay` and `delay + 1 ms` after it was sent.

mod delay_line;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

use delay_line::{Broken, Line};

/// What a test controls, shared with every connection.
#[derive(Debug)]
struct Controls {
    /// While false, new connections are dropped at once (a partition).
    open: AtomicBool,
    /// The one-way delay in nanoseconds, read for each chunk.
    delay_nanos: AtomicU64,
    /// Whether requests (client → target) are held.
    requests_held: watch::Sender<bool>,
    /// Whether replies (target → client) are held.
    replies_held: watch::Sender<bool>,
}

impl Controls {
    fn delay(&self) -> Duration {
        Duration::from_nanos(self.delay_nanos.load(Ordering::Relaxed))
    }
}

/// Forwards every connection to a target, with the delay, holds and cuts a test asks for;
/// dropping it cuts every connection.
#[derive(Debug)]
pub struct Proxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// Connections accepted, forwarded or dropped.
    pub accepted: Arc<AtomicUsize>,
    /// The delay, holds and partition state.
    controls: Arc<Controls>,
    /// The connections being forwarded, to cut them.
    links: Arc<Mutex<Vec<AbortHandle>>>,
    /// The accepting task.
    accept: AbortHandle,
}

/// The addresses to reach `listeners` at: themselves, or, `one_way` apart, a delaying
/// proxy in front of each (returned too: they live as long as the links should).
///
/// # Panics
/// If a listener has no local address (tests only).
pub async fn links_to(
    listeners: &[TcpListener],
    one_way: Option<Duration>,
) -> (Vec<SocketAddr>, Vec<Proxy>) {
    let mut addrs = Vec::new();
    let mut links = Vec::new();
    for listener in listeners {
        let addr = listener.local_addr().expect("addr");
        match one_way {
            Some(one_way) => {
                let link = Proxy::with_delay(addr, one_way).await;
                addrs.push(link.addr);
                links.push(link);
            }
            None => addrs.push(addr),
        }
    }
    (addrs, links)
}

impl Proxy {
    /// A proxy to `target` on 127.0.0.1 (port 0), without delay.
    ///
    /// # Panics
    /// If it cannot bind (tests only).
    pub async fn start(target: SocketAddr) -> Self {
        Self::with_delay(target, Duration::ZERO).await
    }

    /// A proxy to `target` that delays each direction by `one_way` (the round trip is
    /// twice that).
    ///
    /// # Panics
    /// If it cannot bind (tests only).
    pub async fn with_delay(target: SocketAddr, one_way: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let controls = Arc::new(Controls {
            open: AtomicBool::new(true),
            delay_nanos: AtomicU64::new(nanos(one_way)),
            requests_held: watch::Sender::new(false),
            replies_held: watch::Sender::new(false),
        });
        let accepted = Arc::new(AtomicUsize::new(0));
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (c, a, l) = (controls.clone(), accepted.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                if !c.open.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is reset
                }
                let link = tokio::spawn(forward(inbound, target, c.clone()));
                if let Ok(mut links) = l.lock() {
                    links.retain(|link| !link.is_finished());
                    links.push(link.abort_handle());
                }
            }
        })
        .abort_handle();
        Self {
            addr,
            accepted,
            controls,
            links,
            accept,
        }
    }

    /// The one-way delay now.
    pub fn delay(&self) -> Duration {
        self.controls.delay()
    }

    /// Changes the one-way delay for chunks read from now on (those already on the line
    /// keep theirs; order is kept either way).
    pub fn set_delay(&self, one_way: Duration) {
        self.controls
            .delay_nanos
            .store(nanos(one_way), Ordering::Relaxed);
    }

    /// Holds (or releases) requests, client → target: they wait in the proxy.
    pub fn hold_requests(&self, held: bool) {
        self.controls.requests_held.send_replace(held);
    }

    /// Holds (or releases) replies, target → client: they wait in the proxy.
    pub fn hold_replies(&self, held: bool) {
        self.controls.replies_held.send_replace(held);
    }

    /// Cuts the network: open connections are dropped, new ones refused until
    /// [`Proxy::heal`].
    pub fn cut(&self) {
        self.controls.open.store(false, Ordering::SeqCst);
        self.drop_connections();
    }

    /// Heals a cut: new connections go through again.
    pub fn heal(&self) {
        self.controls.open.store(true, Ordering::SeqCst);
    }

    /// Drops every open connection and releases both holds; new connections go through
    /// (what is held is lost, as when a connection breaks).
    pub fn reset(&self) {
        self.drop_connections();
        self.hold_requests(false);
        self.hold_replies(false);
    }

    fn drop_connections(&self) {
        if let Ok(mut links) = self.links.lock() {
            for link in links.drain(..) {
                link.abort();
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// One connection: both directions through their delay lines until both have ended, or
/// one broke (then dropping the sockets closes the other).
async fn forward(inbound: TcpStream, target: SocketAddr, controls: Arc<Controls>) {
    let Ok(outbound) = TcpStream::connect(target).await else {
        return; // the client sees its connection closed
    };
    let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
    let (from_client, to_client) = inbound.into_split();
    let (from_target, to_target) = outbound.into_split();
    let line = |held: &watch::Sender<bool>| {
        let c = controls.clone();
        Line::new(move || c.delay(), held.subscribe())
    };
    let requests = line(&controls.requests_held).carry(from_client, to_target);
    let replies = line(&controls.replies_held).carry(from_target, to_client);
    let _: Result<_, Broken> = tokio::try_join!(requests, replies);
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}
