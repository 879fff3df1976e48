//! How a node opens its database: read-write on every node, so that a promoted node can
//! write without a restart (LiteFS itself refuses writes on a replica, with its own error,
//! and the forwarding layer never writes locally there); the primary prepares the schema,
//! a replica waits for it to replicate.

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use tokio::time::Instant;

use super::NodeError;
use super::config::NodeConfig;
use crate::ledger;

/// Opens the database as the primary: creating the file if needed, running the
/// application's migrations, then creating the ledger's table if missing.
pub(super) async fn open_as_primary(config: &NodeConfig) -> Result<DatabaseConnection, NodeError> {
    let db = match &config.connection {
        Some(db) => db.clone(),
        None => connect(config, "rwc").await?,
    };
    if let Some(migrate) = &config.migrate {
        migrate(db.clone()).await?;
    }
    ledger::create_table(&db).await?;
    Ok(db)
}

/// Opens the database as a replica, once the primary's schema (its ledger table, created
/// last) has replicated here; gives up after `wait`.
pub(super) async fn open_as_replica(
    config: &NodeConfig,
    wait: Duration,
) -> Result<DatabaseConnection, NodeError> {
    let until = Instant::now() + wait;
    let probe = |backend: DbBackend| match backend {
        DbBackend::Postgres => format!(
            "SELECT 1 FROM pg_catalog.pg_tables WHERE tablename = '{}'",
            ledger::TABLE
        ),
        _ => format!(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '{}'",
            ledger::TABLE
        ),
    };
    loop {
        let opened = match &config.connection {
            Some(db) => Some(db.clone()),
            None if config.db_path.exists() => connect(config, "rw").await.ok(),
            None => None,
        };
        if let Some(db) = opened {
            let found = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    probe(db.get_database_backend()),
                ))
                .await;
            if let Ok(Some(_)) = found {
                return Ok(db);
            }
            if config.connection.is_none() {
                let _ = db.close().await;
            }
        }
        if Instant::now() >= until {
            return Err(NodeError::NoSchema {
                path: config.db_path.clone(),
                waited: wait,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens `config.db_path` (`mode`: `rw` or `rwc`) with the configured `synchronous`.
async fn connect(config: &NodeConfig, mode: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options =
        ConnectOptions::new(format!("sqlite://{}?mode={mode}", config.db_path.display()));
    if let Some(synchronous) = config.synchronous {
        options.map_sqlx_sqlite_opts(move |o| o.synchronous(synchronous));
    }
    Database::connect(options).await
}
