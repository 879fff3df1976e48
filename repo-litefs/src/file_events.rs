//! `FileEvents`: the kernel telling a watcher at once that one of a few files was written
//! and closed, replaced by a rename or deleted (Linux's inotify), so that it looks now
//! instead of at its next periodic look.
//!
//! Only an accelerator: whoever waits on it keeps its periodic look, because events are not
//! delivered everywhere (a FUSE mount such as LiteFS's reports no change its daemon makes)
//! and can be lost (a full queue counts as an event, but a watch can fail to be set up).
//! Elsewhere than on Linux, or when inotify is unavailable, [`FileEvents::next`] never
//! returns. Events that say a write is still under way (each `write`) are not reported:
//! only ends (`close` after writing, a rename into place, a deletion, such as a rollback
//! journal's at the end of a commit), so a look it causes sees a finished change.

use std::path::PathBuf;

/// Events about a set of files (see the [module docs](self)).
#[derive(Debug)]
pub(crate) struct FileEvents {
    /// The kernel's watch; `None` where there is none.
    #[cfg(target_os = "linux")]
    watch: Option<linux::Watch>,
}

impl FileEvents {
    /// Events about `files` (watched through their directories, so a file created or
    /// replaced later is covered): written and closed, renamed into place, deleted. Call
    /// inside a Tokio runtime.
    pub(crate) fn watch(files: &[PathBuf]) -> Self {
        Self::new(files, false)
    }

    /// Deletions of `files` only (a rollback journal's end): the kernel then reports
    /// nothing else that happens in their directories, such as the `.lag` files the
    /// emulator rewrites ten times a second, which would wake the watcher for nothing.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn deletions(files: &[PathBuf]) -> Self {
        Self::new(files, true)
    }

    /// See [`FileEvents::watch`] and [`FileEvents::deletions`].
    fn new(files: &[PathBuf], deletions_only: bool) -> Self {
        #[cfg(target_os = "linux")]
        {
            let watch = linux::Watch::new(files, deletions_only);
            if watch.is_none() && !files.is_empty() {
                tracing::debug!(
                    ?files,
                    "no file events (inotify unavailable): periodic looks only"
                );
            }
            Self { watch }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (files, deletions_only);
            Self {}
        }
    }

    /// Whether events will be reported at all.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn active(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            self.watch.is_some()
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }

    /// Returns once one of the files has changed since the previous call (every event
    /// that arrived meanwhile is consumed); never, where there are no events.
    pub(crate) async fn next(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(watch) = self.watch.as_mut()
            && watch.next().await
        {
            return;
        }
        std::future::pending::<()>().await;
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::HashSet;
    use std::ffi::OsString;
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
    use tokio::io::unix::AsyncFd;

    /// One inotify instance watching the files' directories.
    #[derive(Debug)]
    pub(super) struct Watch {
        /// The inotify descriptor, registered with Tokio's reactor.
        fd: AsyncFd<OwnedFd>,
        /// The files' names (events about other files in the directories are ignored).
        names: HashSet<OsString>,
        /// Where events are read.
        buffer: Vec<MaybeUninit<u8>>,
    }

    impl Watch {
        /// `None` when there are no files, or inotify or one of the watches is unavailable.
        pub(super) fn new(files: &[PathBuf], deletions_only: bool) -> Option<Self> {
            if files.is_empty() {
                return None;
            }
            let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
            let mut dirs: HashSet<PathBuf> = HashSet::new();
            let mut names = HashSet::new();
            for file in files {
                let name = file.file_name()?;
                let dir = match file.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
                    _ => Path::new(".").to_owned(),
                };
                if dirs.insert(dir.clone()) {
                    let flags = if deletions_only {
                        WatchFlags::DELETE
                    } else {
                        WatchFlags::CLOSE_WRITE | WatchFlags::MOVED_TO | WatchFlags::DELETE
                    };
                    inotify::add_watch(&fd, dir.as_path(), flags).ok()?;
                }
                names.insert(name.to_owned());
            }
            // Deprecated in Tokio 1.54 for descriptors the caller might close behind its
            // back; this one is an `OwnedFd` moved in, which only the `AsyncFd` closes (the
            // I/O-safe use). Its replacement, `register`, is `unsafe`, which this workspace
            // forbids.
            #[allow(deprecated)]
            let fd = AsyncFd::new(fd).ok()?;
            Some(Self {
                fd,
                names,
                buffer: vec![MaybeUninit::uninit(); 4096],
            })
        }

        /// Waits for an event about one of the files; `false` if the descriptor failed.
        pub(super) async fn next(&mut self) -> bool {
            loop {
                let Ok(mut ready) = self.fd.readable().await else {
                    return false;
                };
                let mut hit = false;
                let names = &self.names;
                let buffer = &mut self.buffer;
                let read = ready.try_io(|fd| -> std::io::Result<()> {
                    let mut reader = inotify::Reader::new(fd.get_ref(), &mut buffer[..]);
                    loop {
                        match reader.next() {
                            Ok(event) => {
                                let overflow = event.events().contains(ReadFlags::QUEUE_OVERFLOW);
                                let ours = event.file_name().is_some_and(|n| {
                                    names.contains(std::ffi::OsStr::from_bytes(n.to_bytes()))
                                });
                                hit |= overflow || ours;
                            }
                            // Drained: the readiness is cleared until the next event.
                            Err(e) => return Err(std::io::Error::from(e)),
                        }
                    }
                });
                match read {
                    Ok(Err(e)) if e.kind() != std::io::ErrorKind::WouldBlock => return false,
                    _ => {}
                }
                if hit {
                    return true;
                }
            }
        }
    }
}
