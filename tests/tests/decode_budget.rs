//! A forwarded request is weighed on the wire before it is decoded: a message of many tiny
//! repeated elements (2 bytes each on the wire, ~100 in memory) is refused without being
//! decoded, so it cannot make the primary allocate ~50 times its size before the
//! concurrency limit applies. One test per file: it reads this process's peak memory.

use prost::Message;
use prost::bytes::BufMut;
use repo_core::{
    Action, BatchStep, Operation, RejectReason, RepoError, Request, StepOperation, TooLarge,
};
use repo_litefs::decode_budget::MAX_DECODED_BYTES;
use repo_litefs::proto as pb;
use repo_tests::cluster::{Cluster, SECRET};
use sea_orm::{DbBackend, EntityTrait, PaginatorTrait, Statement, Value};
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;

use blog_example::entities::tag;

/// Sends already-encoded bytes as the request message: no client-side copy of the decoded
/// form, so what this process allocates while the call runs is the server's.
#[derive(Default)]
struct RawCodec;

struct RawEncoder;
struct ResponseDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = pb::ForwardResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> ResponseDecoder {
        ResponseDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        buf.put_slice(&item);
        Ok(())
    }
}

impl Decoder for ResponseDecoder {
    type Item = pb::ForwardResponse;
    type Error = tonic::Status;
    fn decode(
        &mut self,
        buf: &mut DecodeBuf<'_>,
    ) -> Result<Option<pb::ForwardResponse>, tonic::Status> {
        pb::ForwardResponse::decode(buf)
            .map(Some)
            .map_err(|e| tonic::Status::internal(e.to_string()))
    }
}

/// A `ForwardRequest` whose batch holds `steps` empty steps: 2 bytes each.
fn empty_steps(steps: usize) -> Vec<u8> {
    let header = pb::ForwardRequest {
        request_id: vec![7; 16],
        action: pb::Action::Multi as i32,
        origin: "attacker".into(),
        ..Default::default()
    };
    let mut wire = header.encode_to_vec();
    let batch = [0x0a_u8, 0x00].repeat(steps);
    wire.push(0x3a); // field 7 (batch), length-delimited
    prost::encoding::encode_varint(batch.len() as u64, &mut wire);
    wire.extend_from_slice(&batch);
    wire
}

/// This process's resident memory: (now, peak since the last reset), in bytes.
fn resident() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
            .expect(name)
            * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Makes the peak resident memory start again from the current one (Linux).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_would_decode_huge_are_refused_before_decoding() {
    let cluster = Cluster::start(1).await;
    let addr = cluster.primary().addr;

    // 1. 2 million empty batch steps in a 4 MiB message: ~200 MB decoded.
    let wire = empty_steps(2_000_000);
    assert!(wire.len() < 4 * 1024 * 1024);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("uri")
        .tcp_nodelay(true)
        .connect()
        .await
        .expect("connect");
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.expect("ready");
    let mut request = tonic::Request::new(wire);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {SECRET}").parse().expect("ascii"),
    );
    let path = PathAndQuery::from_static("/litefs.forward.v1.Forwarder/Execute");
    reset_peak();
    let (before, _) = resident();
    let status = grpc
        .unary(request, path, RawCodec)
        .await
        .expect_err("refused");
    let (_, peak) = resident();
    // The wire bytes are held a few times (client, HTTP/2, server buffer): tens of MiB.
    // Decoding them would have taken over 200 MB more.
    let grew = peak.saturating_sub(before);
    eprintln!(
        "resident memory grew by {} MiB while the request was refused",
        grew >> 20
    );
    assert!(
        grew < 64 * 1024 * 1024,
        "resident memory grew by {} MiB while the request was refused",
        grew >> 20
    );
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    let err = repo_litefs::convert::error_from_status(&status, "node-1").await;
    assert!(
        matches!(
            err,
            RepoError::Rejected {
                reason: RejectReason::TooLarge(TooLarge::Decoded { limit, bytes })
            } if limit == MAX_DECODED_BYTES && bytes > 100_000_000
        ),
        "{err:?}"
    );

    // 2. Through a replica's repository: a batch of 6 statements of 30,000 values each
    // (each under SQLite's 32,766) is over the budget; the replica gets the typed reason.
    let placeholders = vec!["(?)"; 30_000].join(",");
    let sql = format!("INSERT INTO tags (name) VALUES {placeholders}");
    let steps = (0..6)
        .map(|i| BatchStep {
            name: format!("s{i}"),
            operation: StepOperation::Execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                &sql,
                (0..30_000).map(|j| Value::from(format!("t{i}-{j}"))),
            )),
            require_row: false,
        })
        .collect();
    let batch = Request::new(Action::Multi, "multi", Operation::Batch(steps));
    let err = cluster
        .replica(1)
        .repo
        .call(batch, &Default::default())
        .await
        .expect_err("over the budget");
    assert!(
        matches!(
            &err,
            RepoError::Rejected {
                reason: RejectReason::TooLarge(TooLarge::Decoded { .. })
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("split it"), "{err}");
    let tags = tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(tags, 0, "a refused request writes nothing");

    // 3. The same statements, two per batch, go through.
    let placeholders = vec!["(?)"; 30_000].join(",");
    let sql = format!("INSERT INTO tags (name) VALUES {placeholders}");
    let steps = (0..2)
        .map(|i| BatchStep {
            name: format!("s{i}"),
            operation: StepOperation::Execute(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                &sql,
                (0..30_000).map(|j| Value::from(format!("t{i}-{j}"))),
            )),
            require_row: false,
        })
        .collect();
    cluster
        .replica(1)
        .repo
        .call(
            Request::new(Action::Multi, "multi", Operation::Batch(steps)),
            &Default::default(),
        )
        .await
        .expect("within the budget");
    let tags = tag::Entity::find()
        .count(&cluster.primary().db)
        .await
        .expect("count");
    assert_eq!(tags, 60_000);
}
