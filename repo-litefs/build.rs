//! Compiles `proto/litefs/forward/v1/forward.proto` with protox (pure Rust: no `protoc`
//! needed on the machine) and generates the tonic client and server.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto = "proto/litefs/forward/v1/forward.proto";
    println!("cargo:rerun-if-changed={proto}");
    let descriptors = protox::compile([proto], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // Checks what a request will take decoded before decoding it (src/decode_budget).
        .codec_path("crate::decode_budget::BoundedCodec")
        .compile_fds(descriptors)?;
    Ok(())
}
