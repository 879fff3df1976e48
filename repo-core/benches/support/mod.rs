//! Shared benchmark support: the `notes` entity and measurement helpers.
#![allow(dead_code, unreachable_pub)]

pub mod measure;
pub mod note;
