//! proptest strategies for every sea-orm `Value` variant SQLite can store, and an
//! equality that holds for NaN floats and keeps offsets.
#![allow(missing_docs)]

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use proptest::prelude::*;
use repo_core::{BatchStep, Fetch, Operation, RowShape, StepOperation, ValueKind};
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

/// Every `Value` variant that SQLite can store, with NULLs.
pub fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        opt(any::<bool>()).prop_map(Value::Bool),
        opt(any::<i8>()).prop_map(Value::TinyInt),
        opt(any::<i16>()).prop_map(Value::SmallInt),
        opt(any::<i32>()).prop_map(Value::Int),
        opt(any::<i64>()).prop_map(Value::BigInt),
        opt(any::<u8>()).prop_map(Value::TinyUnsigned),
        opt(any::<u16>()).prop_map(Value::SmallUnsigned),
        opt(any::<u32>()).prop_map(Value::Unsigned),
        // SQLite integers are signed: a `u64` above `i64::MAX` is refused (see value_bounds).
        opt(0..=i64::MAX as u64).prop_map(Value::BigUnsigned),
        opt(any::<f32>()).prop_map(Value::Float),
        opt(any::<f64>()).prop_map(Value::Double),
        opt(".*").prop_map(Value::String),
        (".{1,12}", opt(".*")).prop_map(|(t, v)| Value::Enum(match v {
            Some(v) => OptionEnum::Some(Box::new(Enum {
                type_name: t.as_str().into(),
                value: v.into()
            })),
            None => OptionEnum::None(t.as_str().into()),
        })),
        opt(any::<char>()).prop_map(Value::Char),
        opt(prop::collection::vec(any::<u8>(), 0..64)).prop_map(Value::Bytes),
        opt(json()).prop_map(|j| Value::Json(j.map(Box::new))),
        opt((1i32..3_652_059)
            .prop_map(|d| NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()))
        .prop_map(Value::ChronoDate),
        opt((0u32..86_400, 0u32..1_000_000_000).prop_map(|(s, n)| {
            NaiveTime::from_num_seconds_from_midnight_opt(s, n).unwrap_or_default()
        }))
        .prop_map(Value::ChronoTime),
        opt(chrono_instant().prop_map(|d| d.naive_utc())).prop_map(Value::ChronoDateTime),
        opt(chrono_instant()).prop_map(Value::ChronoDateTimeUtc),
        opt(chrono_instant().prop_map(|d| d.with_timezone(&chrono::Local)))
            .prop_map(Value::ChronoDateTimeLocal),
        opt((chrono_instant(), offset()).prop_map(|(d, o)| d.with_timezone(&o)))
            .prop_map(Value::ChronoDateTimeWithTimeZone),
        opt(time_date()).prop_map(Value::TimeDate),
        opt(time_time()).prop_map(Value::TimeTime),
        opt((time_date(), time_time()).prop_map(|(d, t)| time::PrimitiveDateTime::new(d, t)))
            .prop_map(Value::TimeDateTime),
        opt(
            (-377_705_116_800i64..253_402_300_799, -86_399i32..86_399).prop_map(|(s, o)| {
                let tz = time::UtcOffset::from_whole_seconds(o).unwrap_or(time::UtcOffset::UTC);
                time::OffsetDateTime::from_unix_timestamp(s)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
                    .to_offset(tz)
            })
        )
        .prop_map(Value::TimeDateTimeWithTimeZone),
        opt(any::<u128>().prop_map(uuid::Uuid::from_u128)).prop_map(Value::Uuid),
        opt((any::<i64>(), 0u32..=28).prop_map(|(m, s)| rust_decimal::Decimal::new(m, s)))
            .prop_map(Value::Decimal),
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
        _ => a == b,
    }
}

pub fn statement() -> impl Strategy<Value = Statement> {
    (".*", opt(prop::collection::vec(value(), 0..6))).prop_map(|(sql, values)| Statement {
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
