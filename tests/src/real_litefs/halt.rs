//! LiteFS's HALT lock, as `litefs run -with-halt-lock-on` takes it: an OFD write lock on byte
//! 72 of `<db>-lock` in the mount. While a replica holds it, the primary's writes pause and
//! the replica may write its own file; LiteFS ships the change back to the primary.
//! LiteFS's own "write forwarding", measured against ours in `benches/halt_lock.rs`.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nix::fcntl::{FcntlArg, fcntl};
use nix::libc;

/// The byte of `<db>-lock` that LiteFS treats as the HALT lock.
const HALT_BYTE: libc::off_t = 72;

/// Why the HALT lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum HaltError {
    /// LiteFS refused the lock (or the thread waiting for it failed: EIO).
    #[error("HALT lock refused: {0}")]
    Lock(nix::Error),
    /// LiteFS did not grant it in time (is the primary reachable?).
    #[error("HALT lock not granted within {0:?}")]
    Timeout(Duration),
}

/// An open `<db>-lock` file; each value is its own open file description, so two values
/// exclude each other as two processes would.
#[derive(Debug)]
pub struct HaltLock {
    file: File,
}

impl HaltLock {
    /// Opens the lock file of database `db` in the LiteFS mount `mount`.
    pub fn open(mount: &Path, db: &str) -> std::io::Result<Self> {
        let file = File::options()
            .read(true)
            .write(true)
            .open(mount.join(format!("{db}-lock")))?;
        Ok(Self { file })
    }

    /// Blocks until this replica holds the primary's write lock.
    pub fn acquire(&self) -> nix::Result<()> {
        fcntl(&self.file, FcntlArg::F_OFD_SETLKW(&range(libc::F_WRLCK))).map(drop)
    }

    /// Like [`HaltLock::acquire`], failing after `limit` instead of blocking forever (LiteFS's
    /// FUSE layer answers the non-blocking `F_OFD_SETLK` with ENOSYS, so the blocking call
    /// runs on a thread of its own; on timeout that thread stays blocked until LiteFS answers,
    /// and if LiteFS grants the lock then, it stays held until every clone of this `Arc` is
    /// dropped, which closes the file).
    pub async fn acquire_within(self: &Arc<Self>, limit: Duration) -> Result<(), HaltError> {
        let lock = self.clone();
        let blocking = tokio::task::spawn_blocking(move || lock.acquire());
        match tokio::time::timeout(limit, blocking).await {
            Ok(Ok(result)) => result.map_err(HaltError::Lock),
            Ok(Err(_)) => Err(HaltError::Lock(nix::Error::EIO)),
            Err(_) => Err(HaltError::Timeout(limit)),
        }
    }

    /// Gives the lock back; LiteFS has then shipped the writes made under it.
    pub fn release(&self) -> nix::Result<()> {
        fcntl(&self.file, FcntlArg::F_OFD_SETLK(&range(libc::F_UNLCK))).map(drop)
    }
}

fn range(kind: libc::c_int) -> libc::flock {
    libc::flock {
        // The constants are small (0..=2); `flock` stores them as `short`.
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: HALT_BYTE,
        l_len: 1,
        l_pid: 0,
    }
}
