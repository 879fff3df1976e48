//! One direction of a proxied connection as a delay line: chunks are read as they come,
//! stamped `read at + delay`, and written at that instant, in order.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// The most bytes one read takes.
const CHUNK: usize = 64 * 1024;

/// Chunks on the line at most (then reading waits, as a full TCP window would): 64 MiB,
/// far more than a link's bandwidth-delay product on loopback at tens of milliseconds.
const IN_FLIGHT: usize = 1024;

/// The direction ended abruptly (a reset or a failed write): the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Broken;

/// What travels the line.
enum Item {
    /// Bytes, in order.
    Data(Vec<u8>),
    /// The sender closed its side (EOF): half-close the receiver's.
    End,
    /// Reading failed (a reset): close the connection.
    Broken,
}

/// A delay line's settings: the delay (read per chunk, so it can change) and the hold.
pub(super) struct Line<D> {
    /// The one-way delay now.
    delay: D,
    /// While true, nothing is written (chunks wait on the line).
    held: watch::Receiver<bool>,
}

impl<D: Fn() -> Duration> Line<D> {
    pub(super) fn new(delay: D, held: watch::Receiver<bool>) -> Self {
        Self { delay, held }
    }

    /// Carries `from` to `to` until `from` ends (then `to` is shut down for writing, a
    /// delay later) or either side fails.
    pub(super) async fn carry(
        self,
        mut from: impl AsyncRead + Unpin,
        mut to: impl AsyncWrite + Unpin,
    ) -> Result<(), Broken> {
        let Self { delay, mut held } = self;
        let (line, mut arriving) = mpsc::channel::<(Instant, Item)>(IN_FLIGHT);
        let read = async move {
            let mut buf = vec![0_u8; CHUNK];
            loop {
                let item = match from.read(&mut buf).await {
                    Ok(0) => Item::End,
                    Ok(n) => Item::Data(buf[..n].to_vec()),
                    Err(_) => Item::Broken,
                };
                let last = !matches!(item, Item::Data(_));
                if line.send((Instant::now() + delay(), item)).await.is_err() || last {
                    break;
                }
            }
            // Keeps the line open: only the writer ends the direction.
            std::future::pending::<()>().await;
        };
        let write = async move {
            while let Some((due, item)) = arriving.recv().await {
                if due > Instant::now() {
                    tokio::time::sleep_until(due).await;
                }
                // A dropped sender (the proxy going away) releases the hold.
                let _ = held.wait_for(|held| !*held).await;
                match item {
                    Item::Data(bytes) => to.write_all(&bytes).await.map_err(|_| Broken)?,
                    Item::End => {
                        let _ = to.shutdown().await;
                        return Ok(());
                    }
                    Item::Broken => return Err(Broken),
                }
            }
            Err(Broken)
        };
        tokio::select! {
            result = write => result,
            () = read => Err(Broken),
        }
    }
}

#[cfg(test)]
mod tests {
    //! On tokio's paused clock with in-memory streams: every instant is exact (up to the
    //! timer's millisecond), whatever the machine's load.

    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
    use tokio::sync::watch;
    use tokio::time::Instant;

    use super::{Broken, Line};

    const DELAY: Duration = Duration::from_millis(50);

    /// A line of `DELAY` from a client stream to a server stream, and its hold.
    fn line() -> (
        DuplexStream,
        DuplexStream,
        watch::Sender<bool>,
        tokio::task::JoinHandle<Result<(), Broken>>,
    ) {
        let (client, line_in) = duplex(1 << 20);
        let (line_out, server) = duplex(1 << 20);
        let held = watch::Sender::new(false);
        let carry = tokio::spawn(Line::new(|| DELAY, held.subscribe()).carry(line_in, line_out));
        (client, server, held, carry)
    }

    /// Reads exactly `n` bytes; returns them and when the last one arrived.
    async fn read_n(server: &mut DuplexStream, n: usize) -> (Vec<u8>, Instant) {
        let mut got = vec![0_u8; n];
        server.read_exact(&mut got).await.expect("read");
        (got, Instant::now())
    }

    fn about(took: Duration, expected: Duration) -> bool {
        took >= expected && took <= expected + Duration::from_millis(1)
    }

    #[tokio::test(start_paused = true)]
    async fn each_chunk_arrives_one_delay_after_it_was_sent_in_order() {
        let (mut client, mut server, _held, _carry) = line();
        let start = Instant::now();
        client.write_all(b"first").await.expect("write");
        tokio::time::sleep(Duration::from_millis(10)).await;
        client.write_all(b"second").await.expect("write");
        let (first, at) = read_n(&mut server, 5).await;
        assert_eq!(first, b"first");
        assert!(about(at - start, DELAY), "{:?}", at - start);
        let (second, at) = read_n(&mut server, 6).await;
        assert_eq!(second, b"second");
        assert!(
            about(at - start, DELAY + Duration::from_millis(10)),
            "{:?}",
            at - start
        );
    }

    /// A delay line, not a sleep per chunk: 100 chunks sent a millisecond apart all arrive
    /// within 100 ms after the first one's delay (a sleep per chunk would take 100 delays).
    #[tokio::test(start_paused = true)]
    async fn chunks_in_flight_do_not_wait_for_each_other() {
        let (mut client, mut server, _held, _carry) = line();
        let start = Instant::now();
        let sender = tokio::spawn(async move {
            for i in 0..100_u8 {
                client.write_all(&[i]).await.expect("write");
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            client
        });
        let (got, at) = read_n(&mut server, 100).await;
        assert_eq!(got, (0..100).collect::<Vec<u8>>(), "in order, none lost");
        assert!(
            about(at - start, DELAY + Duration::from_millis(99)),
            "{:?}",
            at - start
        );
        drop(sender.await);
    }

    #[tokio::test(start_paused = true)]
    async fn an_end_arrives_after_the_data_one_delay_later() {
        let (mut client, mut server, _held, carry) = line();
        let start = Instant::now();
        client.write_all(b"last words").await.expect("write");
        client.shutdown().await.expect("shutdown");
        let mut all = Vec::new();
        server.read_to_end(&mut all).await.expect("read to the end");
        assert_eq!(all, b"last words");
        assert!(about(start.elapsed(), DELAY), "{:?}", start.elapsed());
        assert_eq!(carry.await.expect("joined"), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_line_keeps_its_chunks_until_released() {
        let (mut client, mut server, held, _carry) = line();
        held.send_replace(true);
        client.write_all(b"held").await.expect("write");
        let mut buf = [0_u8; 4];
        let early = tokio::time::timeout(DELAY * 10, server.read_exact(&mut buf)).await;
        assert!(early.is_err(), "nothing arrives while held");
        held.send_replace(false);
        server.read_exact(&mut buf).await.expect("released");
        assert_eq!(&buf, b"held");
    }

    #[tokio::test(start_paused = true)]
    async fn a_receiver_gone_breaks_the_line() {
        let (mut client, server, _held, carry) = line();
        drop(server);
        client.write_all(b"to nobody").await.expect("write");
        assert_eq!(carry.await.expect("joined"), Err(Broken));
    }
}
