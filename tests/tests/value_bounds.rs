//! No value a peer can send panics the primary: every protobuf `Value` (each oneof variant,
//! integers at their extremes) either is refused when decoded, or binds and runs in a real
//! SQLite statement, re-encodes to the same wire value, and reads back — all without a
//! panic. Arbitrary bytes and arbitrary requests never make request decoding panic, and a
//! local value that the primary would refuse is refused when encoded, not sent.
//!
//! Parameters that pass `WireValue::check_bindable` also bind in place: sqlx does not drop
//! them and shift the next parameter into their slot.
//!
//! A panic anywhere (this thread or sqlx's worker: a panic hook counts them all) fails the
//! test, naming the input that caused it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone as _};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use prost::Message;
use repo_core::Row;
use repo_core::spi::{RowShape, ValueKind, WireValue};
use repo_litefs::convert::{decode_request, decode_value, encode_value};
use repo_litefs::proto as pb;
use repo_tests::strategies::{edge_pb_value, same, value};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};

/// Panics seen anywhere in the process since the hook was installed.
static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Held by each test for its whole run: the panic count is process-wide, so the tests of
/// this file take turns (a panic in one must not be blamed on another).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn count_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info);
        }));
    });
}

/// Runs `case`; a panic (caught here, or counted by the hook on another thread) becomes a
/// failure that names `input`.
fn no_panic<T: std::fmt::Debug>(
    input: &T,
    case: impl FnOnce() -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let before = PANICS.load(Ordering::SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(case));
    let panics = PANICS.load(Ordering::SeqCst) - before;
    match outcome {
        Err(_) => Err(TestCaseError::fail(format!("panicked on {input:.200?}"))),
        Ok(_) if panics > 0 => Err(TestCaseError::fail(format!(
            "{panics} panic(s) on another thread on {input:.200?}"
        ))),
        Ok(result) => result,
    }
}

/// A runner config: `n` cases, no failure files (the failing input is in the message).
fn cases(n: u32) -> Config {
    Config {
        failure_persistence: None,
        ..Config::with_cases(n)
    }
}

/// The declared SQLite column type sea-orm's migrations give each kind.
fn column_type(kind: ValueKind) -> &'static str {
    use ValueKind as K;
    match kind {
        K::Bool => "boolean",
        K::TinyInt | K::TinyUnsigned => "tinyint",
        K::SmallInt | K::SmallUnsigned => "smallint",
        K::Int | K::Unsigned => "integer",
        K::BigInt | K::BigUnsigned => "bigint",
        K::Float => "float",
        K::Double => "double",
        K::String => "varchar",
        K::Char => "char",
        K::Bytes => "blob",
        K::Json => "json_text",
        K::ChronoDate | K::TimeDate => "date_text",
        K::ChronoTime | K::TimeTime => "time_text",
        K::ChronoDateTime | K::TimeDateTime => "datetime_text",
        K::ChronoDateTimeUtc | K::ChronoDateTimeLocal => "timestamp_text",
        K::ChronoDateTimeWithTimeZone | K::TimeDateTimeWithTimeZone => {
            "timestamp_with_timezone_text"
        }
        K::Uuid => "uuid_text",
        K::Decimal => "real",
    }
}

/// The kind of a value (`Enum` binds as text).
fn kind_of(v: &Value) -> ValueKind {
    use ValueKind as K;
    match v {
        Value::Bool(_) => K::Bool,
        Value::TinyInt(_) => K::TinyInt,
        Value::SmallInt(_) => K::SmallInt,
        Value::Int(_) => K::Int,
        Value::BigInt(_) => K::BigInt,
        Value::TinyUnsigned(_) => K::TinyUnsigned,
        Value::SmallUnsigned(_) => K::SmallUnsigned,
        Value::Unsigned(_) => K::Unsigned,
        Value::BigUnsigned(_) => K::BigUnsigned,
        Value::Float(_) => K::Float,
        Value::Double(_) => K::Double,
        Value::Char(_) => K::Char,
        Value::Bytes(_) => K::Bytes,
        Value::Json(_) => K::Json,
        Value::ChronoDate(_) => K::ChronoDate,
        Value::ChronoTime(_) => K::ChronoTime,
        Value::ChronoDateTime(_) => K::ChronoDateTime,
        Value::ChronoDateTimeUtc(_) => K::ChronoDateTimeUtc,
        Value::ChronoDateTimeLocal(_) => K::ChronoDateTimeLocal,
        Value::ChronoDateTimeWithTimeZone(_) => K::ChronoDateTimeWithTimeZone,
        Value::TimeDate(_) => K::TimeDate,
        Value::TimeTime(_) => K::TimeTime,
        Value::TimeDateTime(_) => K::TimeDateTime,
        Value::TimeDateTimeWithTimeZone(_) => K::TimeDateTimeWithTimeZone,
        Value::Uuid(_) => K::Uuid,
        Value::Decimal(_) => K::Decimal,
        _ => K::String,
    }
}

/// A database with one table per kind, its column declared as migrations declare it.
struct Db {
    rt: tokio::runtime::Runtime,
    conn: DatabaseConnection,
    _dir: tempfile::TempDir,
    /// Dropped last: this test's turn ends after its connection is closed.
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Db {
    fn new() -> Self {
        let turn = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        count_panics();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
        let conn = rt.block_on(Database::connect(url)).expect("connect");
        // Thousands of one-row commits: durability is not what is tested here.
        for pragma in ["PRAGMA synchronous = OFF", "PRAGMA journal_mode = MEMORY"] {
            rt.block_on(conn.execute_unprepared(pragma))
                .expect("pragma");
        }
        for kind in ValueKind::ALL {
            let sql = format!(
                "CREATE TABLE t_{kind:?} (id INTEGER PRIMARY KEY, v {})",
                column_type(kind)
            );
            rt.block_on(conn.execute_unprepared(&sql)).expect("create");
        }
        Self {
            rt,
            conn,
            _dir: dir,
            _turn: turn,
        }
    }

    fn run(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<sea_orm::QueryResult>, sea_orm::DbErr> {
        let stmt = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        self.rt.block_on(self.conn.query_all_raw(stmt))
    }

    /// The connection still answers (sqlx's worker did not die).
    fn healthy(&self) -> Result<(), TestCaseError> {
        let rows = self
            .run("SELECT 1", Vec::new())
            .map_err(|e| TestCaseError::fail(format!("connection broken: {e}")))?;
        prop_assert_eq!(rows.len(), 1);
        Ok(())
    }

    /// `v` binds as exactly one parameter: the one after it still lands in its place
    /// (sqlx drops a parameter it cannot write and shifts the rest left).
    fn binds_in_place(&self, v: &Value) -> Result<(), TestCaseError> {
        let rows = self
            .run(
                "SELECT ? AS v, ? AS s",
                vec![v.clone(), Value::BigInt(Some(7))],
            )
            .map_err(|e| TestCaseError::fail(format!("{v:.200?} does not bind: {e}")))?;
        let s = rows.first().map(|r| r.try_get::<Option<i64>>("", "s"));
        prop_assert!(
            matches!(s, Some(Ok(Some(7)))),
            "{:.200?} shifted the next parameter: {:?}",
            v,
            s
        );
        Ok(())
    }

    /// Binds `v` as SQLite sees it from the primary: `SELECT ?`, then an INSERT into a
    /// column of its kind with RETURNING, read back typed by that kind (the executor's
    /// path for shaped rows) and by storage class, and the rows' values encoded again.
    /// Errors are fine (SQLite may refuse what sea-orm cannot store); panics are not.
    fn bind_and_read_back(&self, v: &Value) -> Result<(), TestCaseError> {
        let kind = kind_of(v);
        let _ = self.run("SELECT ? AS v", vec![v.clone()]);
        let sql = format!("INSERT INTO t_{kind:?} (v) VALUES (?) RETURNING v");
        if let Ok(rows) = self.run(&sql, vec![v.clone()]) {
            let shape = RowShape::new([("v".to_owned(), kind)]);
            for result in &rows {
                for shape in [Some(&shape), None] {
                    if let Ok(row) = Row::read(result, shape) {
                        for back in &row.values {
                            let _ = encode_value(back);
                        }
                    }
                }
            }
        }
        self.healthy()
    }
}

/// The wire round trip: `v` encodes, and what it encodes to decodes to `v` again; its
/// bytes are the bytes that arrived (JSON, whose text is not canonical: after one pass).
fn round_trip(arrived: &pb::Value, v: &Value) -> Result<(), TestCaseError> {
    let encoded = encode_value(v)
        .map_err(|e| TestCaseError::fail(format!("{v:.200?} decoded but does not encode: {e}")))?;
    let back = decode_value(encoded.clone()).map_err(|e| {
        TestCaseError::fail(format!("{v:.200?} re-encoded but does not decode: {e}"))
    })?;
    prop_assert!(same(v, &back), "{:.200?} became {:.200?}", v, back);
    if matches!(v, Value::Json(Some(_))) {
        let again = encode_value(&back).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(again.encode_to_vec(), encoded.encode_to_vec());
    } else {
        prop_assert_eq!(
            encoded.encode_to_vec(),
            arrived.encode_to_vec(),
            "{:.200?}",
            v
        );
    }
    Ok(())
}

#[test]
fn every_wire_value_is_refused_or_safe_to_bind_encode_and_read_back() {
    let db = Db::new();
    let mut runner = TestRunner::new(cases(5_000));
    let (accepted, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let result = runner.run(&edge_pb_value(), |arrived| {
        no_panic(&arrived, || match decode_value(arrived.clone()) {
            Err(e) => {
                // Bounded: the message never echoes a large input.
                prop_assert!(e.to_string().len() < 200, "unbounded refusal: {:.300}", e);
                refused.set(refused.get() + 1);
                Ok(())
            }
            Ok(v) => {
                accepted.set(accepted.get() + 1);
                round_trip(&arrived, &v)?;
                let bindable = WireValue::try_from(&v).map(|w| w.check_bindable());
                if matches!(bindable, Ok(Ok(()))) {
                    db.binds_in_place(&v)?;
                }
                db.bind_and_read_back(&v)
            }
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (accepted, refused) = (accepted.get(), refused.get());
    assert!(
        accepted > 2_000 && refused > 500,
        "accepted {accepted}, refused {refused}"
    );
}

/// A request from arbitrary statements of edge values, sometimes with some of its bytes
/// overwritten.
fn edge_request() -> impl Strategy<Value = Vec<u8>> {
    let statement = (prop::collection::vec(edge_pb_value(), 0..4), any::<bool>()).prop_map(
        |(values, present)| pb::Statement {
            sql: "SELECT ?1, ?2, ?3, ?4".into(),
            values,
            values_present: present,
        },
    );
    let operation = prop_oneof![
        statement
            .clone()
            .prop_map(pb::forward_request::Operation::Execute),
        prop::collection::vec((statement, any::<bool>()), 0..3).prop_map(|steps| {
            pb::forward_request::Operation::Batch(pb::Batch {
                steps: steps
                    .into_iter()
                    .map(|(s, rows)| pb::BatchStep {
                        name: "s".into(),
                        statement: Some(s),
                        returns_rows: rows,
                        ..Default::default()
                    })
                    .collect(),
            })
        }),
    ];
    let flips = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3);
    (operation, prop::collection::vec(any::<u8>(), 14..18), flips).prop_map(|(op, id, flips)| {
        let mut bytes = pb::ForwardRequest {
            request_id: id,
            action: pb::Action::Insert as i32,
            operation: Some(op),
            ..Default::default()
        }
        .encode_to_vec();
        for (at, byte) in flips {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
        }
        bytes
    })
}

#[test]
fn requests_from_any_bytes_decode_without_panic_and_their_values_bind() {
    let db = Db::new();
    let mut runner = TestRunner::new(cases(3_000));
    let bytes = prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..512),
        3 => edge_request(),
    ];
    let result = runner.run(&bytes, |bytes| {
        no_panic(&bytes, || {
            let Ok(message) = pb::ForwardRequest::decode(bytes.as_slice()) else {
                return Ok(());
            };
            let Ok(request) = decode_request(message) else {
                return Ok(());
            };
            let statements: Vec<Statement> = match request.operation {
                repo_core::Operation::Execute(s) => vec![s],
                repo_core::Operation::Batch(steps) => steps
                    .into_iter()
                    .map(|s| match s.operation {
                        repo_core::StepOperation::Execute(s) => s,
                        repo_core::StepOperation::Query { statement, .. } => statement,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            for s in statements {
                let values = s.values.map(|v| v.0).unwrap_or_default();
                let _ = db.run("SELECT ?1, ?2, ?3, ?4", values);
            }
            db.healthy()
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Local values, including ones chrono builds without checking (a UTC date-time paired
/// with an offset that pushes its local time out of the calendar) and `u64`s above
/// SQLite's integers.
fn local_value() -> impl Strategy<Value = Value> {
    let max = DateTime::<chrono::Utc>::MAX_UTC.naive_utc();
    let min = DateTime::<chrono::Utc>::MIN_UTC.naive_utc();
    let edge = (
        prop::sample::select(vec![min, max]),
        0i64..172_800,
        -86_399i32..=86_399,
    )
        .prop_map(move |(at, back, offset)| {
            let naive: NaiveDateTime = if at == max {
                at - chrono::Duration::seconds(back)
            } else {
                at + chrono::Duration::seconds(back)
            };
            let tz = FixedOffset::east_opt(offset)
                .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
            DateTime::<FixedOffset>::from_naive_utc_and_offset(naive, tz)
        });
    prop_oneof![
        value(),
        edge.clone()
            .prop_map(|d| Value::ChronoDateTimeWithTimeZone(Some(d))),
        edge.prop_map(|d| {
            Value::ChronoDateTimeLocal(Some(DateTime::from_naive_utc_and_offset(
                d.naive_utc(),
                *d.offset(),
            )))
        }),
        prop::sample::select(vec![0, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX])
            .prop_map(|u| Value::BigUnsigned(Some(u))),
        Just(Value::ChronoDateTimeUtc(Some(
            chrono::Utc.from_utc_datetime(&max)
        ))),
    ]
}

#[test]
fn local_values_the_primary_would_refuse_are_refused_when_encoded() {
    let db = Db::new();
    let mut runner = TestRunner::new(cases(2_000));
    let result = runner.run(&local_value(), |v| {
        no_panic(&v, || match encode_value(&v) {
            Err(e) => {
                prop_assert!(e.to_string().len() < 200, "unbounded refusal: {:.300}", e);
                Ok(())
            }
            Ok(encoded) => {
                let back = decode_value(encoded)
                    .map_err(|e| TestCaseError::fail(format!("encoded but refused: {e}")))?;
                prop_assert!(same(&v, &back), "{:.200?} became {:.200?}", v, back);
                db.bind_and_read_back(&v)
            }
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The examples of issue 11 and its review, one by one.
#[test]
fn known_panics_are_refused_as_invalid_values() {
    use pb::value::Value as V;
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let chrono_max = DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    let time_max = time::PrimitiveDateTime::MAX.assume_utc().unix_timestamp();
    let instant = |seconds| Some(pb::Instant { seconds, nanos: 0 });
    let cases = [
        V::ChronoDateTimeWithTimeZone(pb::ZonedInstant {
            instant: instant(chrono_max),
            offset_seconds: 3_600,
        }),
        V::TimeDateTimeWithTimeZone(pb::ZonedInstant {
            instant: instant(time_max),
            offset_seconds: 3_600,
        }),
        V::BigUnsigned(u64::MAX),
        V::ChronoDateTimeLocal(pb::Instant {
            seconds: chrono_max,
            nanos: 0,
        }),
    ];
    for v in cases {
        let err = decode_value(pb::Value {
            value: Some(v.clone()),
        })
        .expect_err("out of range")
        .to_string();
        assert!(err.contains("refused"), "{v:?}: {err}");
        let status = repo_litefs::convert::status_from_error(&repo_core::RepoError::from(
            repo_litefs::convert::ConvertError(err),
        ));
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{v:?}");
    }
}
