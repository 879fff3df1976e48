//! A TCP proxy whose two directions can be held (bytes stop flowing; nothing is lost or
//! corrupted) and whose connections can be cut: a reply lost after the work it answers
//! was done, deterministically.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// Which directions are held.
#[derive(Debug, Default)]
pub struct Flags {
    /// Replies (primary → replica) stop flowing.
    pub replies: AtomicBool,
    /// Requests (replica → primary) stop flowing.
    pub requests: AtomicBool,
}

/// The proxy; dropping it cuts every connection.
pub struct HoldProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    /// What is held now.
    pub flags: Arc<Flags>,
    /// The open connections, to cut them.
    links: Arc<Mutex<Vec<AbortHandle>>>,
    /// The accepting task.
    accept: AbortHandle,
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    held: impl Fn() -> bool,
) {
    let mut buf = vec![0_u8; 16 * 1024];
    loop {
        while held() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                while held() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if to.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl HoldProxy {
    /// A proxy to `target` on 127.0.0.1 (port 0).
    ///
    /// # Panics
    /// If it cannot bind (tests only).
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let flags = Arc::new(Flags::default());
        let links: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (f, l) = (flags.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let f = f.clone();
                let link = tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = (inbound.set_nodelay(true), outbound.set_nodelay(true));
                    let (ri, wi) = inbound.into_split();
                    let (ro, wo) = outbound.into_split();
                    let (f1, f2) = (f.clone(), f);
                    tokio::join!(
                        pump(ri, wo, move || f1.requests.load(Ordering::SeqCst)),
                        pump(ro, wi, move || f2.replies.load(Ordering::SeqCst)),
                    );
                });
                l.lock().expect("links").push(link.abort_handle());
            }
        })
        .abort_handle();
        Self {
            addr,
            flags,
            links,
            accept,
        }
    }

    /// Drops every open connection (new ones go through, unheld).
    pub fn cut(&self) {
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
        self.flags.replies.store(false, Ordering::SeqCst);
        self.flags.requests.store(false, Ordering::SeqCst);
    }
}

impl Drop for HoldProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}
