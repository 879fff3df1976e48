//! `every_type_rows`: a test entity with a column of every type the repository must carry.

use sea_orm::Set;
use sea_orm::entity::prelude::*;

/// A string-valued enum column.
#[derive(Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum Status {
    /// Active.
    #[sea_orm(string_value = "on")]
    On,
    /// Inactive.
    #[sea_orm(string_value = "off")]
    Off,
}

/// A row with one column per supported type.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "every_type_rows")]
#[allow(missing_docs)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub flag: bool,
    pub tiny: i8,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub utiny: u8,
    pub usmall: u16,
    pub uint: u32,
    pub float: f32,
    pub double: f64,
    #[sea_orm(unique)]
    pub text: String,
    pub maybe_text: Option<String>,
    pub maybe_int: Option<i32>,
    pub bytes: Vec<u8>,
    pub json: Json,
    pub date: Date,
    pub time: Time,
    pub datetime: DateTime,
    pub utc: DateTimeUtc,
    pub fixed: DateTimeWithTimeZone,
    pub uuid: Uuid,
    pub decimal: Decimal,
    pub tdate: TimeDate,
    pub ttime: TimeTime,
    pub tdatetime: TimeDateTime,
    pub toffset: TimeDateTimeWithTimeZone,
    pub status: Status,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A every_type whose values are all derived from `n`, with awkward values on purpose
/// (negative numbers, fractional seconds, a non-UTC offset, unicode, NUL bytes).
pub fn sample(n: i32) -> ActiveModel {
    use chrono::{FixedOffset, NaiveDate, TimeZone, Utc};
    let date = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap_or_default();
    let datetime = date
        .and_hms_micro_opt(23, 59, 58, 123_456)
        .unwrap_or_default();
    let offset = FixedOffset::east_opt(5 * 3600 + 1800)
        .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
    ActiveModel {
        id: sea_orm::NotSet,
        flag: Set(n % 2 == 0),
        tiny: Set(-8),
        small: Set(-1600),
        int: Set(n),
        big: Set(i64::from(n) * 10_000_000_000),
        utiny: Set(250),
        usmall: Set(65_000),
        uint: Set(4_000_000_000),
        float: Set(1.5),
        double: Set(-2.25e10),
        text: Set(format!("gädget-{n} ✓")),
        maybe_text: Set(if n % 2 == 0 { None } else { Some("odd".into()) }),
        maybe_int: Set(if n % 3 == 0 { None } else { Some(n * 7) }),
        bytes: Set(vec![0, 1, 2, 255, 0]),
        json: Set(serde_json::json!({"n": n, "tags": ["a", "b"], "nested": {"ok": true}})),
        date: Set(date),
        time: Set(datetime.time()),
        datetime: Set(datetime),
        utc: Set(Utc.from_utc_datetime(&datetime)),
        fixed: Set(offset.from_utc_datetime(&datetime)),
        uuid: Set(Uuid::from_u128(
            0x1234_5678_9abc_def0_1234_5678_9abc_def0 + n as u128,
        )),
        decimal: Set(Decimal::new(12_345, 2)),
        tdate: Set(time::macros::date!(2024 - 02 - 29)),
        ttime: Set(time::macros::time!(12:34:56.789)),
        tdatetime: Set(time::macros::datetime!(2024-02-29 12:34:56.789)),
        toffset: Set(time::macros::datetime!(2024-02-29 12:34:56.789 +02:00)),
        status: Set(if n % 2 == 0 { Status::On } else { Status::Off }),
    }
}
