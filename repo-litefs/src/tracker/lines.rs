//! Cutting the `/events` byte stream into lines, whatever the chunk boundaries.

/// Longest `/events` line kept; longer ones are dropped whole (LiteFS's lines are ~200 bytes).
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// Why a line could not be handed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LineError {
    /// The line was longer than the limit and was dropped.
    #[error("line longer than {limit} bytes dropped")]
    TooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The line was not UTF-8.
    #[error("line is not UTF-8")]
    NotUtf8,
}

/// Accumulates chunks and yields complete `\n`-terminated lines (a trailing `\r` is removed).
#[derive(Debug)]
pub(crate) struct LineBuffer {
    /// Bytes of the line not yet terminated.
    partial: Vec<u8>,
    /// Longest line kept.
    limit: usize,
    /// Set while skipping the rest of an overlong line, up to its `\n`.
    discarding: bool,
}

impl LineBuffer {
    /// A buffer that drops lines longer than `limit` bytes.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            partial: Vec::new(),
            limit,
            discarding: false,
        }
    }

    /// Adds `chunk`; returns the lines it completed, in order.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Result<String, LineError>> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.append(&rest[..end]);
            rest = &rest[end + 1..];
            lines.push(self.take());
        }
        self.append(rest);
        lines
    }

    /// The last line if the stream ended without a final `\n`.
    pub(crate) fn finish(&mut self) -> Option<Result<String, LineError>> {
        if self.partial.is_empty() && !self.discarding {
            return None;
        }
        Some(self.take())
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.discarding {
            return;
        }
        if self.partial.len() + bytes.len() > self.limit {
            self.partial.clear();
            self.discarding = true;
        } else {
            self.partial.extend_from_slice(bytes);
        }
    }

    fn take(&mut self) -> Result<String, LineError> {
        if std::mem::take(&mut self.discarding) {
            return Err(LineError::TooLong { limit: self.limit });
        }
        let mut line = std::mem::take(&mut self.partial);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        String::from_utf8(line).map_err(|_| LineError::NotUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Result<String, LineError> {
        Ok(s.to_owned())
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut buf = LineBuffer::new(MAX_LINE);
        assert_eq!(buf.push(b"{\"a\":"), vec![]);
        assert_eq!(buf.push(b"1}\n{\"b\""), vec![ok("{\"a\":1}")]);
        assert_eq!(buf.push(b":2}\r\n\n"), vec![ok("{\"b\":2}"), ok("")]);
        assert_eq!(buf.finish(), None);
    }

    #[test]
    fn overlong_and_non_utf8_lines_are_reported_and_skipped() {
        let mut buf = LineBuffer::new(8);
        assert_eq!(buf.push(b"0123456789"), vec![]);
        assert_eq!(
            buf.push(b"abc\nok\n\xff\xfe\n"),
            vec![
                Err(LineError::TooLong { limit: 8 }),
                ok("ok"),
                Err(LineError::NotUtf8)
            ]
        );
        assert_eq!(buf.push(b"tail"), vec![]);
        assert_eq!(buf.finish(), Some(ok("tail")));
        assert_eq!(buf.finish(), None);
    }
}
