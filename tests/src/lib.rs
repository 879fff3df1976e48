//! Shared fixtures for the integration tests: real SQLite databases in temporary
//! directories, an entity with every column type, and test layers.

pub mod backends;
pub mod cluster;
pub mod db;
pub mod emulated_cluster;
pub mod every_pg_type;
pub mod every_type;
pub mod history;
pub mod history_row;
pub mod interactive;
pub mod layers;
pub mod lose_response;
pub mod postgres;
pub mod proxy;
pub mod real_litefs;
pub mod requests;
pub mod rss;
pub mod scenarios;
pub mod strategies;
pub mod transaction_script;
pub mod write_script;

/// A Tokio runtime for a test that drives async work from a synchronous test function
/// (property tests, the PostgreSQL harness): two worker threads, I/O and time enabled.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
