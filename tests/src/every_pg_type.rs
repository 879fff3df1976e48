//! `every_pg_type_rows`: [`crate::every_type`] for PostgreSQL, a column of every type
//! sea-orm maps there. PostgreSQL has no unsigned or one-byte integers (sea-orm reads no
//! `u8`/`u16`/`u32` from it, and sqlx binds an `i8` as the internal `"char"` type), so
//! those columns are left out; `jsonb` is added.

use sea_orm::entity::prelude::*;

pub use crate::every_type::Status;

/// A row with one column per type PostgreSQL takes from sea-orm.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "every_pg_type_rows")]
#[allow(missing_docs)]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub flag: bool,
    pub small: i16,
    pub int: i32,
    pub big: i64,
    pub float: f32,
    pub double: f64,
    #[sea_orm(unique)]
    pub text: String,
    pub maybe_text: Option<String>,
    pub maybe_int: Option<i32>,
    pub bytes: Vec<u8>,
    pub json: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub jsonb: Json,
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

/// A row whose values are those of [`crate::every_type::sample`] for the columns both
/// tables have (awkward on purpose: negative numbers, fractional seconds, a non-UTC
/// offset, unicode, NUL bytes), and its `json` again as `jsonb`.
pub fn sample(n: i32) -> ActiveModel {
    let all = crate::every_type::sample(n);
    let json = all.json.clone();
    ActiveModel {
        id: sea_orm::NotSet,
        flag: all.flag,
        small: all.small,
        int: all.int,
        big: all.big,
        float: all.float,
        double: all.double,
        text: all.text,
        maybe_text: all.maybe_text,
        maybe_int: all.maybe_int,
        bytes: all.bytes,
        json,
        jsonb: all.json,
        date: all.date,
        time: all.time,
        datetime: all.datetime,
        utc: all.utc,
        fixed: all.fixed,
        uuid: all.uuid,
        decimal: all.decimal,
        tdate: all.tdate,
        ttime: all.ttime,
        tdatetime: all.tdatetime,
        toffset: all.toffset,
        status: all.status,
    }
}
