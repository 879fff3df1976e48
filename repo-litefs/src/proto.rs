//! The generated protobuf types and tonic stubs of `litefs.forward.v1`.
#![allow(missing_docs, unreachable_pub, clippy::all, clippy::pedantic)]

tonic::include_proto!("litefs.forward.v1");
