//! The PostgreSQL meeting store: a connection pool, migrations applied on connect.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Pool, Postgres};

use super::OpenError;
use super::sql::{Embedded, Queries, numbered, sql_meeting_store};

const MIGRATIONS: Embedded =
    Embedded(&[(1, "meetings", include_str!("../../migrations/postgres/0001_meetings.sql"))]);

/// Meetings and sessions in PostgreSQL.
#[derive(Debug, Clone)]
pub struct PostgresMeetingStore {
    pool: Pool<Postgres>,
    queries: Queries,
}

impl PostgresMeetingStore {
    /// Connects to `url` (`postgres://user:password@host:port/database?…`) and applies pending
    /// migrations.
    pub async fn connect(url: &str) -> Result<Self, OpenError> {
        // The URL may hold a password: never echo it.
        let options = PgConnectOptions::from_str(url).map_err(|e| OpenError::Connect {
            backend: "postgres",
            message: format!("invalid database URL: {}", redact_url_error(&e)),
        })?;
        Self::connect_with(options).await
    }

    /// Connects with `options` (for example with a `search_path` that puts the tables in a
    /// schema of their own) and applies pending migrations.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, OpenError> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| OpenError::Connect { backend: "postgres", message: e.to_string() })?;
        sqlx::migrate::Migrator::new(MIGRATIONS)
            .await
            .map_err(|e| OpenError::Migrate { backend: "postgres", message: e.to_string() })?
            .run(&pool)
            .await
            .map_err(|e| OpenError::Migrate { backend: "postgres", message: e.to_string() })?;
        Ok(Self { pool, queries: Queries::new(numbered) })
    }

    /// Closes the pool's connections (after which operations fail).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The kind of URL error, without the URL itself.
fn redact_url_error(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Configuration(_) => "not a postgres:// URL with valid parameters",
        _ => "unreadable",
    }
}

sql_meeting_store!(PostgresMeetingStore);
