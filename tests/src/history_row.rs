//! `history_rows`: one row per write of a Jepsen-style test, keyed by the writer's own
//! unique key (no UNIQUE constraint, so that a duplicate would show).

use sea_orm::entity::prelude::*;

/// A row written by one call.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "history_rows")]
pub struct Model {
    /// Rowid.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `<node>-<task>-<seq>`: unique per call.
    pub key: String,
    /// The account the write counts for (relational schema: a foreign key).
    pub account_id: Option<i64>,
}

/// No relations are declared (the foreign key is the schema's own).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
