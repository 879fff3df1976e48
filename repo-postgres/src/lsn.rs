//! PostgreSQL's `pg_lsn` text (`16/B374D848`) as a number, and back.

/// The LSN written as `hi/lo` (hexadecimal, PostgreSQL's `pg_lsn` output) as one `u64`.
///
/// ```
/// assert_eq!(repo_postgres::parse_lsn("16/B374D848"), Some(0x16_B374_D848));
/// assert_eq!(repo_postgres::parse_lsn("0/0"), Some(0));
/// assert_eq!(repo_postgres::parse_lsn("garbage"), None);
/// ```
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    if hi.is_empty() || lo.is_empty() || hi.len() > 8 || lo.len() > 8 {
        return None;
    }
    let hi = u32::from_str_radix(hi, 16).ok()?;
    let lo = u32::from_str_radix(lo, 16).ok()?;
    Some((u64::from(hi) << 32) | u64::from(lo))
}

/// The LSN as PostgreSQL writes it (`16/B374D848`).
pub fn format_lsn(lsn: u64) -> String {
    format!("{:X}/{:X}", lsn >> 32, lsn & 0xFFFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_round_trip_and_order_as_numbers() {
        for text in ["0/0", "0/16B3748", "16/B374D848", "FFFFFFFF/FFFFFFFF"] {
            let lsn = parse_lsn(text).expect(text);
            assert_eq!(format_lsn(lsn), text);
        }
        assert!(parse_lsn("1/0") > parse_lsn("0/FFFFFFFF"));
        assert_eq!(parse_lsn("1/"), None);
        assert_eq!(parse_lsn("/1"), None);
        assert_eq!(parse_lsn("123456789/0"), None);
        assert_eq!(parse_lsn("-1/0"), None);
    }
}
