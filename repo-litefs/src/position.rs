//! Reading LiteFS's position file, `<db>-pos`: `%016x/%016x\n`, the TXID and the
//! post-apply checksum in lowercase hex.

use std::path::Path;

/// The TXID in a `<db>-pos` file's text, if it is well formed.
pub fn parse_txid(text: &str) -> Option<u64> {
    let line = text.strip_suffix('\n')?;
    let (txid, checksum) = line.split_once('/')?;
    if txid.len() != 16 || checksum.len() != 16 || !checksum.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    u64::from_str_radix(txid, 16).ok()
}

/// The TXID in the `<db>-pos` file at `path`, if it can be read and is well formed.
pub async fn read_txid(path: &Path) -> Option<u64> {
    parse_txid(&tokio::fs::read_to_string(path).await.ok()?)
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
    }
}
