//! Timestamps as people read them: `30 Nov 2026, 14:05 UTC`, the same on the server and in
//! the page's script (see [`super::scripts::HUMAN_TIME`]).

use chrono::NaiveDateTime;

use crate::web::escape;

/// `<time datetime="2026-11-30T14:05:00">30 Nov 2026, 14:05 UTC</time>`.
pub(super) fn human(at: NaiveDateTime) -> String {
    format!(
        "<time datetime=\"{iso}\">{text}</time>",
        iso = escape(&at.format("%Y-%m-%dT%H:%M:%S").to_string()),
        text = at.format("%-d %b %Y, %H:%M UTC"),
    )
}
