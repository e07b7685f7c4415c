//! The SQLite meeting store: one file, write-ahead logging, migrations applied on open.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use super::OpenError;
use super::sql::{Embedded, Queries, sql_meeting_store};

const MIGRATIONS: Embedded =
    Embedded(&[(1, "meetings", include_str!("../../migrations/sqlite/0001_meetings.sql"))]);

/// Meetings and sessions in a SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteMeetingStore {
    pool: Pool<Sqlite>,
    queries: Queries,
}

impl SqliteMeetingStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(|e| {
            OpenError::Connect { backend: "sqlite", message: format!("{}: {e}", path.display()) }
        })?;
        sqlx::migrate::Migrator::new(MIGRATIONS)
            .await
            .map_err(|e| OpenError::Migrate { backend: "sqlite", message: e.to_string() })?
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate { backend: "sqlite", message: e.to_string() })?;
        Ok(Self { pool, queries: Queries::new(str::to_owned) })
    }

    /// Closes the pool's connections (after which operations fail).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

sql_meeting_store!(SqliteMeetingStore);
