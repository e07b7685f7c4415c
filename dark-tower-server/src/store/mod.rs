//! Meeting store backends: the composition root picks one from [`StoreConfig`].
//!
//! - memory: [`MemoryMeetingStore`] from `dark-tower-core`; forgets everything on restart.
//! - SQLite (feature `sqlite`, on by default): [`SqliteMeetingStore`], one file in the data
//!   directory; the server's default.
//! - PostgreSQL (feature `postgres`): [`PostgresMeetingStore`], for several nodes sharing records.
//!
//! Both SQL backends use runtime queries (no database is needed to build) and apply their
//! embedded migrations (`migrations/<backend>/*.sql` in this crate) when they open. Operations
//! notes, backups included, are in `docs/OPERATIONS.md`.

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use dark_tower_core::store::{MeetingStore, MemoryMeetingStore};

pub use crate::config::StoreConfig;
#[cfg(feature = "postgres")]
pub use postgres::PostgresMeetingStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteMeetingStore;

/// File name of the SQLite database inside the data directory.
pub const SQLITE_FILE: &str = "meetings.sqlite3";

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The backend was left out of this build.
    #[error("the {0} store needs the `{0}` cargo feature, which this build lacks")]
    NotBuilt(&'static str),
    /// The database could not be reached or opened.
    #[error("cannot open the {backend} store: {message}")]
    Connect {
        /// Which backend.
        backend: &'static str,
        /// Why (never contains the password).
        message: String,
    },
    /// Its migrations failed.
    #[error("cannot migrate the {backend} store: {message}")]
    Migrate {
        /// Which backend.
        backend: &'static str,
        /// Why.
        message: String,
    },
}

/// Opens the store `config` names; SQLite keeps its file in `data_dir`.
pub async fn open(config: &StoreConfig, data_dir: &Path) -> Result<Arc<dyn MeetingStore>, OpenError> {
    match config {
        StoreConfig::Memory => Ok(Arc::new(MemoryMeetingStore::default())),
        #[cfg(feature = "sqlite")]
        StoreConfig::Sqlite => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| OpenError::Connect { backend: "sqlite", message: e.to_string() })?;
            Ok(Arc::new(SqliteMeetingStore::open(&data_dir.join(SQLITE_FILE)).await?))
        }
        #[cfg(not(feature = "sqlite"))]
        StoreConfig::Sqlite => {
            let _ = data_dir;
            Err(OpenError::NotBuilt("sqlite"))
        }
        #[cfg(feature = "postgres")]
        StoreConfig::Postgres { url } => Ok(Arc::new(PostgresMeetingStore::connect(url.expose()).await?)),
        #[cfg(not(feature = "postgres"))]
        StoreConfig::Postgres { .. } => Err(OpenError::NotBuilt("postgres")),
    }
}
