//! Whether sqlx can write a value as the one SQLite parameter it stands for.
//!
//! sqlx's SQLite arguments drop a parameter whose encoding fails and bind the rest one
//! place to the left (`INSERT INTO t (a, b) VALUES (?, ?)` with a `time` date-time at
//! offset +00:00:30 and `5` stores `'5'` in `a` and NULL in `b`), and chrono's RFC 3339
//! writer rounds an offset to whole minutes (the stored instant moves). Neither panics,
//! so [`WireValue::check`] lets them through; a statement's parameters need this check too.

use super::bounds::{self, ValueError};
use super::{WireValue, array};
use crate::row::ValueKind;

impl WireValue {
    /// Checks what [`WireValue::check`] checks, and that sqlx writes the value as exactly
    /// the parameter it stands for, unchanged: zoned date-times need an offset in whole
    /// minutes, and `time`'s a local year in 0000-9999 and an offset under 24 hours; an
    /// array's elements each bindable and none NULL (sea-query's PostgreSQL binder panics
    /// on a NULL element).
    ///
    /// Meant for a statement's parameters (rows read back never hold such values).
    ///
    /// ```
    /// use repo_core::spi::WireValue;
    ///
    /// let odd_offset = WireValue::TimeDateTimeWithTimeZone(Some((0, 30)));
    /// assert!(odd_offset.check().is_ok());
    /// assert!(odd_offset.check_bindable().is_err());
    /// ```
    pub fn check_bindable(&self) -> Result<(), ValueError> {
        if let WireValue::Array { element, values } = self {
            return array::check_bindable(element, values.as_deref());
        }
        self.check()?;
        let (kind, verdict) = match self {
            WireValue::ChronoDateTimeWithTimeZone(Some((_, offset))) => (
                ValueKind::ChronoDateTimeWithTimeZone,
                bounds::whole_minute_offset(*offset),
            ),
            WireValue::TimeDateTimeWithTimeZone(Some((nanos, offset))) => (
                ValueKind::TimeDateTimeWithTimeZone,
                bounds::rfc3339_time(*nanos, *offset),
            ),
            _ => return Ok(()),
        };
        verdict.map_err(|reason| ValueError::new(kind, reason))
    }
}
