//! `tagged`: a table with PostgreSQL array columns, and its sea-orm entity, for the types
//! test.

use sea_orm::entity::prelude::*;

/// The table's DDL.
pub const DDL: &str = "CREATE TABLE tagged (id serial PRIMARY KEY, label text NOT NULL, \
     ints integer[], texts text[] NOT NULL, stamps timestamptz[], nums numeric[], \
     ids uuid[], flags boolean[])";

/// A row of `tagged`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tagged")]
pub struct Model {
    /// Database-assigned identifier.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Which write made the row.
    pub label: String,
    /// Integers, or NULL.
    pub ints: Option<Vec<i32>>,
    /// Texts (maybe none).
    pub texts: Vec<String>,
    /// Instants, or NULL.
    pub stamps: Option<Vec<DateTimeUtc>>,
    /// Decimals, or NULL.
    pub nums: Option<Vec<Decimal>>,
    /// UUIDs, or NULL.
    pub ids: Option<Vec<Uuid>>,
    /// Booleans, or NULL.
    pub flags: Option<Vec<bool>>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
