//! How the server ends a WebSocket the client misused, so that the client learns why
//! (RFC 6455 §7.4) instead of seeing the connection drop (1006): 1009 for a message or
//! frame over [`super::BODY_LIMIT`], 1007 for text that is not UTF-8, 1002 for a broken
//! frame.

use axum::extract::ws::{CloseFrame, close_code};

/// 1009 (message too big), naming the limit.
pub(crate) fn too_big() -> CloseFrame {
    CloseFrame {
        code: close_code::SIZE,
        reason: format!("message over the {} KiB limit", super::BODY_LIMIT / 1024).into(),
    }
}

/// The close frame owed to the client after reading from its socket failed with `error`;
/// `None` when the connection itself is gone (nobody to tell).
pub(crate) fn after_read_error(error: axum::Error) -> Option<CloseFrame> {
    use tungstenite::Error;
    let error = error.into_inner();
    let frame = |code, reason: &str| CloseFrame {
        code,
        reason: reason.into(),
    };
    match error.downcast_ref::<Error>()? {
        Error::Capacity(_) => Some(too_big()),
        Error::Utf8(_) => Some(frame(close_code::INVALID, "text messages must be UTF-8")),
        Error::Protocol(_) => Some(frame(close_code::PROTOCOL, "not a valid WebSocket frame")),
        _ => None,
    }
}
