//! Bounded, escaped excerpts of untrusted text, for refusal messages and log fields.

use std::fmt::Write as _;

/// The most characters of untrusted text a refusal message quotes.
pub const EXCERPT_LEN: usize = 200;

/// Returns at most `max_chars` characters of `text`, safe to put in a gRPC status message,
/// an HTTP/2 header or a log line.
///
/// Control characters (newlines, escape sequences, NUL, ...) are escaped as `\n`, `\u{1b}`
/// and so on, so the text cannot forge log lines or terminal output; a backslash is doubled
/// so an escape in the output always came from this function. Text longer than `max_chars`
/// (counted after escaping) is cut on a character boundary and ends with `…`. The work done
/// is bounded by `max_chars`, however long `text` is.
///
/// ```
/// use repo_litefs::allowlist::sanitize;
///
/// assert_eq!(sanitize("orders\nINFO forged", 200), r"orders\nINFO forged");
/// assert_eq!(sanitize(&"x".repeat(1_000_000), 5), "xxxx…");
/// ```
pub fn sanitize(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(max_chars.min(text.len()) + 4);
    let mut written = 0;
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        let mut piece = [0u8; 16];
        let piece = escape(ch, &mut piece);
        let piece_len = piece.chars().count();
        // Keep room for the ellipsis unless this is the last character and it fits.
        let last = chars.peek().is_none();
        let room = if last {
            max_chars
        } else {
            max_chars.saturating_sub(1)
        };
        if written + piece_len > room {
            if max_chars > 0 {
                out.push('…');
            }
            return out;
        }
        out.push_str(piece);
        written += piece_len;
    }
    out
}

/// Writes `ch` escaped into `buf` and returns it as text.
fn escape(ch: char, buf: &mut [u8; 16]) -> &str {
    let mut cursor = Cursor { buf, len: 0 };
    // Writing at most 10 bytes (`\u{10ffff}`) into 16 cannot fail.
    let _ = match ch {
        '\\' => cursor.write_str(r"\\"),
        '\n' => cursor.write_str(r"\n"),
        '\r' => cursor.write_str(r"\r"),
        '\t' => cursor.write_str(r"\t"),
        c if c.is_control() || is_invisible_separator(c) => {
            write!(cursor, "\\u{{{:x}}}", c as u32)
        }
        c => cursor.write_char(c),
    };
    let len = cursor.len;
    std::str::from_utf8(&buf[..len]).unwrap_or("?")
}

/// Line and paragraph separators and bidirectional overrides, which can also rewrite how a
/// log line reads.
fn is_invisible_separator(ch: char) -> bool {
    matches!(ch, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A `fmt::Write` over a fixed buffer.
struct Cursor<'a> {
    /// Where the escaped character is written.
    buf: &'a mut [u8; 16],
    /// How many bytes of `buf` are written.
    len: usize,
}

impl std::fmt::Write for Cursor<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_clean_text_is_unchanged() {
        assert_eq!(sanitize("step `a`", 200), "step `a`");
        assert_eq!(sanitize("", 200), "");
        assert_eq!(sanitize("abc", 3), "abc");
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary() {
        let cut = sanitize(&"é".repeat(10_000), 200);
        assert_eq!(cut.chars().count(), 200);
        assert!(cut.ends_with('…'));
        assert_eq!(sanitize("abcd", 3), "ab…");
        assert_eq!(sanitize("abcd", 0), "");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            sanitize("a\r\nb\u{1b}[31m\0", 200),
            r"a\r\nb\u{1b}[31m\u{0}"
        );
        assert_eq!(sanitize("a\\nb", 200), r"a\\nb");
        assert_eq!(sanitize("x\u{2028}y\u{202e}", 200), r"x\u{2028}y\u{202e}");
        // The escapes count towards the bound.
        assert!(sanitize(&"\n".repeat(1000), 200).chars().count() <= 200);
    }
}
