//! The memory a message may take once decoded, checked on the wire before decoding.
//!
//! tonic's size limit (`ServerConfig::max_message_bytes`) bounds the bytes a request sends,
//! not what they decode to: an empty batch step is 2 bytes on the wire and a 112-byte
//! struct in memory, so a 4 MiB message of empty steps decodes to ~200 MB — before the
//! server's concurrency permit applies, since decoding happens first. [`BoundedCodec`] (the
//! codec of the generated client and server) walks a [`pb::ForwardRequest`]'s wire bytes,
//! adds up what its repeated elements will take (`scan.rs`), and refuses the message with
//! [`TooLarge::Decoded`] when that is over [`MAX_DECODED_BYTES`]. Nothing is allocated for
//! a refused message; an accepted one takes at most its own size (strings and bytes) plus
//! that bound.

mod scan;

use std::marker::PhantomData;

use prost::Message;
use prost::bytes::Buf;
use repo_core::{RejectReason, RepoError, TooLarge};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder};
use tonic_prost::ProstEncoder;

use crate::convert::status_from_error;
use crate::proto as pb;

/// The most the repeated elements of one forwarded request may take once decoded: 8 MiB,
/// about 170,000 values (SQLite binds at most 32,766 per statement).
pub const MAX_DECODED_BYTES: u64 = 8 * 1024 * 1024;

/// What a message type checks on its wire bytes before it is decoded.
pub trait DecodeBudget {
    /// Refuses `wire` when the message would take more than its budget once decoded.
    ///
    /// # Errors
    ///
    /// The refusal, as the status the peer receives.
    fn check_budget(wire: &[u8]) -> Result<(), Status> {
        let _ = wire;
        Ok(())
    }
}

impl DecodeBudget for pb::ForwardRequest {
    fn check_budget(wire: &[u8]) -> Result<(), Status> {
        let bytes = scan::decoded_bytes(wire);
        if bytes <= MAX_DECODED_BYTES {
            return Ok(());
        }
        Err(status_from_error(&RepoError::Rejected {
            reason: RejectReason::TooLarge(TooLarge::Decoded {
                bytes,
                limit: MAX_DECODED_BYTES,
            }),
        }))
    }
}

impl DecodeBudget for pb::TransactionMessage {
    fn check_budget(wire: &[u8]) -> Result<(), Status> {
        let bytes = scan::transaction_message_bytes(wire);
        if bytes <= MAX_DECODED_BYTES {
            return Ok(());
        }
        Err(status_from_error(&RepoError::Rejected {
            reason: RejectReason::TooLarge(TooLarge::Decoded {
                bytes,
                limit: MAX_DECODED_BYTES,
            }),
        }))
    }
}

// Small or trusted: a ping carries one byte string; responses come from the primary the
// replica chose to trust with its writes.
impl DecodeBudget for pb::PingRequest {}
impl DecodeBudget for pb::PingResponse {}
impl DecodeBudget for pb::ForwardResponse {}
impl DecodeBudget for pb::LookupRequest {}
impl DecodeBudget for pb::LookupResponse {}
impl DecodeBudget for pb::TransactionReply {}
impl DecodeBudget for pb::PositionReport {}
impl DecodeBudget for pb::PositionAck {}

/// The codec of the `Forwarder` service: prost's encoding, and prost's decoding after the
/// message's [`DecodeBudget`] check.
#[derive(Debug)]
pub struct BoundedCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for BoundedCodec<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for BoundedCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + DecodeBudget + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = BoundedDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        BoundedDecoder(PhantomData)
    }
}

/// Decodes a `U` whose [`DecodeBudget`] allows it.
#[derive(Debug)]
pub struct BoundedDecoder<U>(PhantomData<U>);

impl<U: Message + Default + DecodeBudget> Decoder for BoundedDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        // tonic buffers the whole message contiguously; taking it as `Bytes` is a split,
        // not a copy.
        let wire = buf.copy_to_bytes(buf.remaining());
        U::check_budget(&wire)?;
        U::decode(wire)
            .map(Some)
            .map_err(|e| Status::internal(e.to_string()))
    }
}
