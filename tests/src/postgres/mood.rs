//! `moods`: a table with a PostgreSQL enum column (`CREATE TYPE mood AS ENUM ...`), and
//! its sea-orm entity, for the types test.

use sea_orm::entity::prelude::*;

/// The DDL of the enum type and the table, in that order.
pub const DDL: [&str; 2] = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
    "CREATE TABLE moods (id serial PRIMARY KEY, label text NOT NULL, m mood NOT NULL, \
     maybe mood)",
];

/// PostgreSQL's `mood` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Enum", enum_name = "mood")]
pub enum Mood {
    /// `sad`
    #[sea_orm(string_value = "sad")]
    Sad,
    /// `ok`
    #[sea_orm(string_value = "ok")]
    Ok,
    /// `happy`
    #[sea_orm(string_value = "happy")]
    Happy,
}

/// A row of `moods`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "moods")]
pub struct Model {
    /// Database-assigned identifier.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Which write made the row.
    pub label: String,
    /// A mood.
    pub m: Mood,
    /// A mood, or NULL.
    pub maybe: Option<Mood>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
