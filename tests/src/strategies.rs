//! proptest strategies for every sea-orm `Value` variant SQLite can store, and an
//! equality that holds for NaN floats and keeps offsets.
#![allow(missing_docs)]

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use proptest::prelude::*;
use repo_core::spi::{RowShape, ValueKind};
use repo_core::{BatchStep, Fetch, Operation, StepOperation};
use sea_orm::sea_query::{Enum, OptionEnum};
use sea_orm::{DbBackend, Statement, Value, Values};

pub fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<Option<T>> {
    prop::option::of(s).boxed()
}

pub fn chrono_instant() -> impl Strategy<Value = DateTime<Utc>> {
    // Years 1..9999, nanosecond precision.
    (-62_135_596_800i64..253_402_300_799, 0u32..1_000_000_000)
        .prop_map(|(s, n)| Utc.timestamp_opt(s, n).single().unwrap_or_default())
}

pub fn offset() -> impl Strategy<Value = FixedOffset> {
    (-86_399i32..86_399).prop_map(|s| {
        FixedOffset::east_opt(s)
            .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()))
    })
}

pub fn time_date() -> impl Strategy<Value = time::Date> {
    (time::Date::MIN.to_julian_day()..=time::Date::MAX.to_julian_day())
        .prop_map(|d| time::Date::from_julian_day(d).unwrap_or(time::Date::MIN))
}

pub fn time_time() -> impl Strategy<Value = time::Time> {
    (0u8..24, 0u8..60, 0u8..60, 0u32..1_000_000_000).prop_map(|(h, m, s, n)| {
        time::Time::from_hms_nano(h, m, s, n).unwrap_or(time::Time::MIDNIGHT)
    })
}

pub fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        (-1e300f64..1e300).prop_map(serde_json::Value::from),
        ".*".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value sqlx can bind faithfully, as statement parameters must be (the primary refuses
/// others: `WireValue::check_bindable`).
pub fn parameter() -> impl Strategy<Value = Value> {
    value().prop_filter("bindable", |v| {
        repo_core::spi::WireValue::try_from(v).is_ok_and(|w| w.check_bindable().is_ok())
    })
}

/// Every `Value` variant that SQLite can store, with NULLs (any value the wire carries, as a
/// row value, say).
pub fn value() -> impl Strategy<Value = Value> {
    prop::strategy::Union::new(values_by_kind())
}

/// A PostgreSQL array (`Value::Array`) of any element type the wire carries: NULL, empty,
/// or up to 8 elements of one kind, NULL elements included (see [`array_parameter`] for the
/// ones a statement may bind).
pub fn array_value() -> impl Strategy<Value = Value> {
    let kinds = values_by_kind();
    (0..kinds.len()).prop_flat_map(move |i| {
        let element = kinds[i].clone();
        (
            element.clone(),
            prop_oneof![
                1 => Just(None),
                5 => prop::collection::vec(element, 0..8).prop_map(Some),
            ],
        )
            .prop_map(|(seed, elements)| Value::Array(seed.array_type(), elements.map(Box::new)))
    })
}

/// An array a statement may bind: no NULL element, each element bindable
/// (`WireValue::check_bindable`).
pub fn array_parameter() -> impl Strategy<Value = Value> {
    array_value().prop_filter("bindable", |v| {
        repo_core::spi::WireValue::try_from(v).is_ok_and(|w| w.check_bindable().is_ok())
    })
}

/// One strategy per `Value` variant SQLite can store, with NULLs.
fn values_by_kind() -> Vec<BoxedStrategy<Value>> {
    vec![
        opt(any::<bool>()).prop_map(Value::Bool).boxed(),
        opt(any::<i8>()).prop_map(Value::TinyInt).boxed(),
        opt(any::<i16>()).prop_map(Value::SmallInt).boxed(),
        opt(any::<i32>()).prop_map(Value::Int).boxed(),
        opt(any::<i64>()).prop_map(Value::BigInt).boxed(),
        opt(any::<u8>()).prop_map(Value::TinyUnsigned).boxed(),
        opt(any::<u16>()).prop_map(Value::SmallUnsigned).boxed(),
        opt(any::<u32>()).prop_map(Value::Unsigned).boxed(),
        // SQLite integers are signed: a `u64` above `i64::MAX` is refused (see value_bounds).
        opt(0..=i64::MAX as u64)
            .prop_map(Value::BigUnsigned)
            .boxed(),
        opt(any::<f32>()).prop_map(Value::Float).boxed(),
        opt(any::<f64>()).prop_map(Value::Double).boxed(),
        opt(".*").prop_map(Value::String).boxed(),
        (".{1,12}", opt(".*"))
            .prop_map(|(t, v)| {
                Value::Enum(match v {
                    Some(v) => OptionEnum::Some(Box::new(Enum {
                        type_name: t.as_str().into(),
                        value: v.into(),
                    })),
                    None => OptionEnum::None(t.as_str().into()),
                })
            })
            .boxed(),
        opt(any::<char>()).prop_map(Value::Char).boxed(),
        opt(prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(Value::Bytes)
            .boxed(),
        opt(json())
            .prop_map(|j| Value::Json(j.map(Box::new)))
            .boxed(),
        opt((1i32..3_652_059)
            .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()))
        .prop_map(Value::ChronoDate)
        .boxed(),
        opt((0u32..86_400, 0u32..1_000_000_000).prop_map(|(s, n)| {
            NaiveTime::from_num_seconds_from_midnight_opt(s, n).unwrap_or_default()
        }))
        .prop_map(Value::ChronoTime)
        .boxed(),
        opt(chrono_instant().prop_map(|d| d.naive_utc()))
            .prop_map(Value::ChronoDateTime)
            .boxed(),
        opt(chrono_instant())
            .prop_map(Value::ChronoDateTimeUtc)
            .boxed(),
        opt(chrono_instant().prop_map(|d| d.with_timezone(&chrono::Local)))
            .prop_map(Value::ChronoDateTimeLocal)
            .boxed(),
        opt((chrono_instant(), offset()).prop_map(|(d, o)| d.with_timezone(&o)))
            .prop_map(Value::ChronoDateTimeWithTimeZone)
            .boxed(),
        opt(time_date()).prop_map(Value::TimeDate).boxed(),
        opt(time_time()).prop_map(Value::TimeTime).boxed(),
        opt((time_date(), time_time()).prop_map(|(d, t)| time::PrimitiveDateTime::new(d, t)))
            .prop_map(Value::TimeDateTime)
            .boxed(),
        opt(
            (-377_705_116_800i64..253_402_300_799, -86_399i32..86_399).prop_map(|(s, o)| {
                let tz = time::UtcOffset::from_whole_seconds(o).unwrap_or(time::UtcOffset::UTC);
                time::OffsetDateTime::from_unix_timestamp(s)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                    .to_offset(tz)
            }),
        )
        .prop_map(Value::TimeDateTimeWithTimeZone)
        .boxed(),
        opt(any::<u128>().prop_map(uuid::Uuid::from_u128))
            .prop_map(Value::Uuid)
            .boxed(),
        opt((any::<i64>(), 0u32..=28).prop_map(|(m, s)| rust_decimal::Decimal::new(m, s)))
            .prop_map(Value::Decimal)
            .boxed(),
    ]
}

/// Equality that also holds for NaN floats and compares instants with their offsets.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(Some(x)), Value::Float(Some(y))) => x.to_bits() == y.to_bits(),
        (Value::Double(Some(x)), Value::Double(Some(y))) => x.to_bits() == y.to_bits(),
        (
            Value::ChronoDateTimeWithTimeZone(Some(x)),
            Value::ChronoDateTimeWithTimeZone(Some(y)),
        ) => x == y && x.offset() == y.offset(),
        (Value::TimeDateTimeWithTimeZone(Some(x)), Value::TimeDateTimeWithTimeZone(Some(y))) => {
            x == y && x.offset() == y.offset()
        }
        (Value::Array(tx, Some(xs)), Value::Array(ty, Some(ys))) => {
            tx == ty && xs.len() == ys.len() && xs.iter().zip(ys.iter()).all(|(x, y)| same(x, y))
        }
        _ => a == b,
    }
}

pub fn statement() -> impl Strategy<Value = Statement> {
    (".*", opt(prop::collection::vec(parameter(), 0..6))).prop_map(|(sql, values)| Statement {
        sql,
        values: values.map(Values),
        db_backend: DbBackend::Sqlite,
    })
}

pub fn shape() -> impl Strategy<Value = Option<Arc<RowShape>>> {
    opt(prop::collection::vec(
        (".{1,8}", prop::sample::select(ValueKind::ALL.to_vec())),
        0..5,
    ))
    .prop_map(|s| s.map(|cols| Arc::new(RowShape::new(cols))))
}

pub fn same_statement(a: &Statement, b: &Statement) -> bool {
    a.sql == b.sql
        && match (&a.values, &b.values) {
            (Some(x), Some(y)) => {
                x.0.len() == y.0.len() && x.0.iter().zip(&y.0).all(|(p, q)| same(p, q))
            }
            (None, None) => true,
            _ => false,
        }
}

/// An operation of the kind `which` picks (0 execute, 1 query, 2 named transaction, 3 a
/// batch of an execute and a query step) from the same parts, for the codecs' round trips.
pub fn operation(
    which: u8,
    stmt: &Statement,
    shape: &Option<Arc<RowShape>>,
    fetch: Fetch,
    name: &str,
    args: &[u8],
) -> Operation {
    match which {
        0 => Operation::Execute(stmt.clone()),
        1 => Operation::Query {
            statement: stmt.clone(),
            shape: shape.clone(),
            fetch,
        },
        2 => Operation::Transaction {
            name: name.to_owned(),
            args: args.to_vec(),
        },
        _ => Operation::Batch(vec![
            BatchStep {
                name: name.to_owned(),
                operation: StepOperation::Execute(stmt.clone()),
                require_row: true,
            },
            BatchStep {
                name: format!("{name}2"),
                operation: StepOperation::Query {
                    statement: stmt.clone(),
                    shape: shape.clone(),
                },
                require_row: false,
            },
        ]),
    }
}

/// Whether `b` holds all of `a`: statements with their values' exact types
/// ([`same_statement`]), shapes, fetch modes, transaction names and arguments, and each batch
/// step's name, flag and operation.
pub fn same_operation(a: &Operation, b: &Operation) -> bool {
    match (a, b) {
        (Operation::Execute(x), Operation::Execute(y)) => same_statement(x, y),
        (
            Operation::Query {
                statement: x,
                shape: sx,
                fetch: fx,
            },
            Operation::Query {
                statement: y,
                shape: sy,
                fetch: fy,
            },
        ) => same_statement(x, y) && sx.as_deref() == sy.as_deref() && fx == fy,
        (
            Operation::Transaction { name: x, args: ax },
            Operation::Transaction { name: y, args: ay },
        ) => x == y && ax == ay,
        (Operation::Batch(x), Operation::Batch(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(p, q)| {
                    p.name == q.name
                        && p.require_row == q.require_row
                        && same_step(&p.operation, &q.operation)
                })
        }
        _ => false,
    }
}

fn same_step(a: &StepOperation, b: &StepOperation) -> bool {
    match (a, b) {
        (StepOperation::Execute(x), StepOperation::Execute(y)) => same_statement(x, y),
        (
            StepOperation::Query {
                statement: x,
                shape: sx,
            },
            StepOperation::Query {
                statement: y,
                shape: sy,
            },
        ) => same_statement(x, y) && sx.as_deref() == sy.as_deref(),
        _ => false,
    }
}

/// `anchor ± a little`, or an arbitrary value: integers at the edges of every range a
/// conversion has to check, and just inside and outside them.
fn near<T>(anchors: Vec<T>, spread: i64, any_value: BoxedStrategy<T>) -> BoxedStrategy<T>
where
    T: Copy + std::fmt::Debug + TryFrom<i128> + Into<i128> + 'static,
{
    let near = (prop::sample::select(anchors), -spread..=spread).prop_map(|(a, d)| {
        let v: i128 = a.into() + i128::from(d);
        T::try_from(v).unwrap_or(a)
    });
    prop_oneof![3 => near, 1 => any_value].boxed()
}

/// Seconds since the Unix epoch near chrono's and `time`'s extremes (a day either way,
/// so every offset is tried against them), the integer extremes, or anything.
pub fn edge_unix_seconds() -> BoxedStrategy<i64> {
    let anchors = vec![
        i64::MIN,
        i64::MAX,
        0,
        DateTime::<Utc>::MIN_UTC.timestamp(),
        DateTime::<Utc>::MAX_UTC.timestamp(),
        time::PrimitiveDateTime::MIN.assume_utc().unix_timestamp(),
        time::PrimitiveDateTime::MAX.assume_utc().unix_timestamp(),
        -62_135_596_800, // 0001-01-01
    ];
    near(anchors, 2 * 86_400, any::<i64>().boxed())
}

/// Nanoseconds: valid, leap-second (1e9..2e9), beyond, `u32::MAX`.
pub fn edge_nanos() -> BoxedStrategy<u32> {
    let anchors = vec![
        0,
        999_999_999,
        1_000_000_000,
        1_999_999_999,
        2_000_000_000,
        u32::MAX,
    ];
    near(anchors, 2, any::<u32>().boxed())
}

/// UTC offsets in seconds around chrono's (±86,399) and `time`'s (±93,599) limits, with
/// and without a seconds part, and the `i32` extremes.
pub fn edge_offset_seconds() -> BoxedStrategy<i32> {
    let anchors = vec![
        0,
        30,
        3_600,
        -3_600,
        86_399,
        -86_399,
        93_599,
        -93_599,
        86_340,
        i32::MIN,
        i32::MAX,
    ];
    near(anchors, 2, any::<i32>().boxed())
}

/// Day numbers near chrono's and `time`'s calendars' ends (days from CE and Julian days)
/// and the `i32` extremes.
pub fn edge_day_numbers() -> BoxedStrategy<i32> {
    use chrono::Datelike;
    let anchors = vec![
        i32::MIN,
        i32::MAX,
        0,
        1,
        NaiveDate::MIN.num_days_from_ce(),
        NaiveDate::MAX.num_days_from_ce(),
        time::Date::MIN.to_julian_day(),
        time::Date::MAX.to_julian_day(),
    ];
    near(anchors, 3, any::<i32>().boxed())
}

/// Seconds since midnight: valid, 86,399, 86,400, a `:59` second, `u32::MAX`.
pub fn edge_time_of_day() -> BoxedStrategy<repo_litefs::proto::TimeOfDay> {
    let secs = near(
        vec![0, 59, 86_399, 86_400, u32::MAX],
        2,
        (0u32..90_000).boxed(),
    );
    (secs, edge_nanos())
        .prop_map(|(seconds, nanos)| repo_litefs::proto::TimeOfDay { seconds, nanos })
        .boxed()
}

/// An instant from [`edge_unix_seconds`] and [`edge_nanos`].
pub fn edge_instant() -> BoxedStrategy<repo_litefs::proto::Instant> {
    (edge_unix_seconds(), edge_nanos())
        .prop_map(|(seconds, nanos)| repo_litefs::proto::Instant { seconds, nanos })
        .boxed()
}

/// JSON texts: valid, invalid, deep, out-of-range numbers, or arbitrary.
pub fn edge_json_text() -> BoxedStrategy<String> {
    prop_oneof![
        json().prop_map(|j| j.to_string()),
        prop::sample::select(vec![
            "",
            "{",
            "NaN",
            "1e400",
            "-0",
            "\u{0}",
            "[1,]",
            "\"\\ud800\"",
            "{\"a\":1} x",
        ])
        .prop_map(str::to_owned),
        (1usize..300).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
        ".{0,24}",
    ]
    .boxed()
}

/// Decimal's 16-byte form: valid and invalid scales and flag bits, wrong lengths.
pub fn edge_decimal_bytes() -> BoxedStrategy<Vec<u8>> {
    let flags = prop_oneof![
        (0u32..=40, any::<bool>()).prop_map(|(scale, neg)| (scale << 16) | (u32::from(neg) << 31)),
        any::<u32>(),
    ];
    prop_oneof![
        4 => (flags, any::<[u8; 12]>()).prop_map(|(f, m)| {
            let mut b = f.to_le_bytes().to_vec();
            b.extend_from_slice(&m);
            b
        }),
        1 => prop::collection::vec(any::<u8>(), 0..20),
    ]
    .boxed()
}

/// Every oneof variant of the protobuf `Value`, with the integers at their extremes:
/// what a node holding the cluster secret can send.
pub fn edge_pb_value() -> BoxedStrategy<repo_litefs::proto::Value> {
    use pb::value::Value as V;
    use repo_litefs::proto as pb;
    let i32s = || {
        near(
            vec![i32::MIN, i32::MAX, -129, 128, -32_769, 32_768, 0],
            2,
            any::<i32>().boxed(),
        )
    };
    let u32s = || {
        near(
            vec![0, 255, 256, 65_535, 65_536, u32::MAX],
            2,
            any::<u32>().boxed(),
        )
    };
    let floats = prop::sample::select(vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        f64::MIN_POSITIVE / 2.0,
        f64::MAX,
    ]);
    let zoned = (
        prop::option::weighted(0.95, edge_instant()),
        edge_offset_seconds(),
    )
        .prop_map(|(instant, offset_seconds)| pb::ZonedInstant {
            instant,
            offset_seconds,
        });
    let variant = prop_oneof![
        near(vec![-1, 0, 1, 27, 28], 1, any::<i32>().boxed()).prop_map(V::Null),
        any::<bool>().prop_map(V::Bool),
        i32s().prop_map(V::TinyInt),
        i32s().prop_map(V::SmallInt),
        i32s().prop_map(V::Int),
        edge_unix_seconds().prop_map(V::BigInt),
        u32s().prop_map(V::TinyUnsigned),
        u32s().prop_map(V::SmallUnsigned),
        u32s().prop_map(V::Unsigned),
        prop_oneof![
            prop::sample::select(vec![0, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX]),
            any::<u64>()
        ]
        .prop_map(V::BigUnsigned),
        prop_oneof![any::<f32>(), floats.clone().prop_map(|f| f as f32)].prop_map(V::Float),
        prop_oneof![any::<f64>(), floats].prop_map(V::Double),
        prop_oneof![8 => ".{0,32}", 1 => (1usize..4).prop_map(|n| "é".repeat(n << 18))].prop_map(V::String),
        (".{0,12}", opt(".{0,12}")).prop_map(|(type_name, value)| V::Enum(pb::EnumValue { type_name, value })),
        near(vec![0, 0xD7FF, 0xD800, 0xDFFF, 0x10FFFF, 0x110000, u32::MAX], 1, any::<u32>().boxed()).prop_map(V::Char),
        prop_oneof![8 => prop::collection::vec(any::<u8>(), 0..32), 1 => (1usize..3).prop_map(|n| vec![0u8; n << 20])].prop_map(V::Bytes),
        edge_json_text().prop_map(V::Json),
        edge_day_numbers().prop_map(V::ChronoDate),
        edge_time_of_day().prop_map(V::ChronoTime),
        edge_instant().prop_map(V::ChronoDateTime),
        edge_instant().prop_map(V::ChronoDateTimeUtc),
        edge_instant().prop_map(V::ChronoDateTimeLocal),
        zoned.clone().prop_map(V::ChronoDateTimeWithTimeZone),
        edge_day_numbers().prop_map(V::TimeDate),
        edge_time_of_day().prop_map(V::TimeTime),
        (edge_day_numbers(), prop::option::weighted(0.95, edge_time_of_day()))
            .prop_map(|(julian_day, time)| V::TimeDateTime(pb::DateAndTime { julian_day, time })),
        zoned.prop_map(V::TimeDateTimeWithTimeZone),
        prop::collection::vec(any::<u8>(), 14..18).prop_map(V::Uuid),
        edge_decimal_bytes().prop_map(V::Decimal),
    ];
    prop::option::weighted(0.99, variant)
        .prop_map(|value| pb::Value { value })
        .boxed()
}
