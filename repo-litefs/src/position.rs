//! Reading LiteFS's position file, `<db>-pos`: `%016x/%016x\n`, the TXID and the
//! post-apply checksum in lowercase hex.

use std::path::Path;

/// The TXID in a `<db>-pos` file's text, if it is well formed.
pub fn parse_txid(text: &str) -> Option<u64> {
    parse_pos(text).map(|(txid, _)| txid)
}

/// The TXID and the post-apply checksum in a `<db>-pos` file's text, if it is well formed.
/// The checksum is LiteFS's checksum of the whole database after that transaction: two
/// nodes at the same TXID with the same checksum hold the same database.
pub fn parse_pos(text: &str) -> Option<(u64, u64)> {
    let line = text.strip_suffix('\n')?;
    let (txid, checksum) = line.split_once('/')?;
    let hex = |s: &str| {
        (s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u64::from_str_radix(s, 16).ok())
            .flatten()
    };
    Some((hex(txid)?, hex(checksum)?))
}

/// The TXID in the `<db>-pos` file at `path`, if it can be read and is well formed.
pub async fn read_txid(path: &Path) -> Option<u64> {
    parse_txid(&tokio::fs::read_to_string(path).await.ok()?)
}

/// The TXID and checksum in the `<db>-pos` file at `path` (see [`parse_pos`]).
pub async fn read_pos(path: &Path) -> Option<(u64, u64)> {
    parse_pos(&tokio::fs::read_to_string(path).await.ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_litefs_positions_and_nothing_else() {
        assert_eq!(parse_txid("000000000000002a/00000000deadbeef\n"), Some(42));
        assert_eq!(
            parse_txid("000000000000002a/00000000deadbeef"),
            None,
            "no newline"
        );
        assert_eq!(parse_txid("2a/00000000deadbeef\n"), None, "short txid");
        assert_eq!(parse_txid("000000000000002a/xyz\n"), None);
        assert_eq!(parse_txid("zzzzzzzzzzzzzzzz/00000000deadbeef\n"), None);
        assert_eq!(parse_txid(""), None);
        assert_eq!(
            parse_pos("000000000000002a/00000000deadbeef\n"),
            Some((42, 0xdead_beef))
        );
        assert_eq!(parse_pos("+00000000000002a/00000000deadbeef\n"), None);
    }
}
