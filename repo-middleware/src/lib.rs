//! Generic tower layers for `repo-core`'s repository: telemetry, timeout, retry and circuit
//! breaker. They know nothing of LiteFS or gRPC.
