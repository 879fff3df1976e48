//! The caller's [`CorrelationId`] on the wire: a replica sends it with each forwarded write
//! in the `x-request-id` gRPC metadata; the primary reads it back, validated (network input:
//! at most [`repo_core::MAX_CORRELATION_ID_BYTES`] letters, digits, `-` or `_`; anything
//! else is dropped), and logs the write under it.

use repo_core::CorrelationId;
use tonic::metadata::MetadataMap;

/// The metadata key the id travels in (the HTTP header's name).
pub(crate) const CORRELATION_KEY: &str = "x-request-id";

/// Adds `id`, if any, to `metadata`.
pub(crate) fn attach(metadata: &mut MetadataMap, id: Option<&CorrelationId>) {
    // A valid id is visible ASCII, so it always makes a metadata value.
    if let Some(value) = id.and_then(|id| id.as_str().parse().ok()) {
        metadata.insert(CORRELATION_KEY, value);
    }
}

/// The valid id in `metadata`, if any.
pub(crate) fn read(metadata: &MetadataMap) -> Option<CorrelationId> {
    metadata
        .get(CORRELATION_KEY)
        .and_then(|value| value.to_str().ok())
        .and_then(|id| CorrelationId::new(id).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_id_round_trips_and_an_invalid_one_is_dropped() {
        let mut metadata = MetadataMap::new();
        let id = CorrelationId::new("req-42").expect("valid");
        attach(&mut metadata, Some(&id));
        assert_eq!(read(&metadata), Some(id));

        let mut forged = MetadataMap::new();
        forged.insert(CORRELATION_KEY, "a".repeat(65).parse().expect("ascii"));
        assert_eq!(read(&forged), None);
        forged.insert(CORRELATION_KEY, "x\" level=ERROR".parse().expect("ascii"));
        assert_eq!(read(&forged), None);
    }
}
