//! `TelemetryLayer`.

use tower::Layer;

use super::Telemetry;

/// Adds a tracing span and metrics to every call. Put it outermost, so that it sees the
/// whole call (retries included).
#[derive(Debug, Clone, Copy, Default)]
pub struct TelemetryLayer;

impl TelemetryLayer {
    /// A telemetry layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for TelemetryLayer {
    type Service = Telemetry<S>;

    fn layer(&self, inner: S) -> Telemetry<S> {
        Telemetry::new(inner)
    }
}
