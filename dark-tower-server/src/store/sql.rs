//! What the SQL backends share: the queries (written once, with `?` placeholders), conversions
//! between records and columns, embedded migrations, and the trait implementations, generated
//! for each backend's pool by [`sql_meeting_store!`].

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dark_tower_core::ids::{Identity, MeetingName, ParticipantId};
use dark_tower_core::store::{MeetingRecord, MeetingSettings, SessionRecord, StoreError};
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType};
use sqlx::{ColumnIndex, Decode, Row, Type};

/// The statements of a meeting store, in the backend's placeholder syntax.
#[derive(Debug, Clone)]
pub(super) struct Queries {
    pub insert_meeting: String,
    pub get_meeting: String,
    pub list_meetings: String,
    pub end_meeting: String,
    pub insert_session: String,
    pub list_sessions: String,
    pub end_session: String,
}

const MEETING_COLUMNS: &str = "name, created_at_us, ended_at_us, settings";
const SESSION_COLUMNS: &str = "meeting, participant, identity, joined_at_us, left_at_us";

impl Queries {
    /// The queries with `?` placeholders, rewritten by `placeholders` (e.g. to `$1`, `$2`…).
    pub(super) fn new(placeholders: impl Fn(&str) -> String) -> Self {
        let m = MEETING_COLUMNS;
        let s = SESSION_COLUMNS;
        Self {
            insert_meeting: placeholders(&format!("INSERT INTO meetings ({m}) VALUES (?, ?, ?, ?)")),
            get_meeting: placeholders(&format!(
                "SELECT {m} FROM meetings WHERE name = ? ORDER BY id DESC LIMIT 1"
            )),
            list_meetings: placeholders(&format!(
                "SELECT {m} FROM meetings WHERE ended_at_us IS NULL OR ? ORDER BY name, id"
            )),
            end_meeting: placeholders(
                "UPDATE meetings SET ended_at_us = ? WHERE name = ? AND ended_at_us IS NULL",
            ),
            insert_session: placeholders(&format!("INSERT INTO sessions ({s}) VALUES (?, ?, ?, ?, ?)")),
            list_sessions: placeholders(&format!("SELECT {s} FROM sessions WHERE meeting = ? ORDER BY id")),
            end_session: placeholders(
                "UPDATE sessions SET left_at_us = COALESCE(left_at_us, ?) WHERE id = \
                 (SELECT MAX(id) FROM sessions WHERE meeting = ? AND participant = ?)",
            ),
        }
    }
}

/// `?` placeholders as PostgreSQL's `$1`, `$2`… (the queries above hold no `?` in literals).
#[cfg(feature = "postgres")]
pub(super) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Time as stored: microseconds since the Unix epoch.
pub(super) fn to_micros(t: SystemTime) -> Result<i64, StoreError> {
    t.duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_micros()).ok())
        .ok_or_else(|| StoreError::Backend("time out of the storable range".into()))
}

/// A stored time back as a `SystemTime`.
pub(super) fn from_micros(us: i64) -> Result<SystemTime, StoreError> {
    u64::try_from(us)
        .map(|us| UNIX_EPOCH + Duration::from_micros(us))
        .map_err(|_| StoreError::Backend(format!("stored time {us} is before 1970")))
}

pub(super) fn settings_to_text(s: &MeetingSettings) -> Result<String, StoreError> {
    serde_json::to_string(s).map_err(|e| StoreError::Backend(format!("encoding settings: {e}")))
}

pub(super) fn settings_from_text(s: &str) -> Result<MeetingSettings, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("stored settings: {e}")))
}

/// A backend failure; a unique violation means a live meeting of that name exists.
pub(super) fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(super) fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| d.is_unique_violation())
}

/// A `meetings` row (columns in `MEETING_COLUMNS` order) as a record.
pub(super) fn meeting_row<R: Row>(row: &R) -> Result<MeetingRecord, StoreError>
where
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    usize: ColumnIndex<R>,
{
    let name: String = row.try_get(0).map_err(backend)?;
    let ended: Option<i64> = row.try_get(2).map_err(backend)?;
    let settings: String = row.try_get(3).map_err(backend)?;
    Ok(MeetingRecord {
        name: MeetingName::new(name).map_err(|e| StoreError::Backend(format!("stored meeting name: {e}")))?,
        created_at: from_micros(row.try_get(1).map_err(backend)?)?,
        ended_at: ended.map(from_micros).transpose()?,
        settings: settings_from_text(&settings)?,
    })
}

/// A `sessions` row (columns in `SESSION_COLUMNS` order) as a record.
pub(super) fn session_row<R: Row>(row: &R) -> Result<SessionRecord, StoreError>
where
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    usize: ColumnIndex<R>,
{
    let meeting: String = row.try_get(0).map_err(backend)?;
    let participant: i64 = row.try_get(1).map_err(backend)?;
    let identity: String = row.try_get(2).map_err(backend)?;
    let left: Option<i64> = row.try_get(4).map_err(backend)?;
    Ok(SessionRecord {
        meeting: MeetingName::new(meeting)
            .map_err(|e| StoreError::Backend(format!("stored meeting name: {e}")))?,
        participant: ParticipantId::from_u64(participant_from_column(participant)),
        identity: Identity::new(identity)
            .map_err(|e| StoreError::Backend(format!("stored identity: {e}")))?,
        joined_at: from_micros(row.try_get(3).map_err(backend)?)?,
        left_at: left.map(from_micros).transpose()?,
    })
}

/// A participant id's 64 bits as the signed integer SQL stores.
pub(super) fn participant_to_column(p: ParticipantId) -> i64 {
    i64::from_ne_bytes(p.as_u64().to_ne_bytes())
}

fn participant_from_column(v: i64) -> u64 {
    u64::from_ne_bytes(v.to_ne_bytes())
}

/// Migrations compiled into the binary: `(version, description, sql)`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Embedded(pub &'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        Cow::Borrowed(description),
                        MigrationType::Simple,
                        Cow::Borrowed(sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Implements `MeetingReader` and `MeetingWriter` for `$store`, a struct with fields
/// `pool: sqlx::Pool<_>` and `queries: Queries`.
macro_rules! sql_meeting_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl dark_tower_core::store::MeetingReader for $store {
            async fn get_meeting(
                &self,
                name: &dark_tower_core::ids::MeetingName,
            ) -> Result<Option<dark_tower_core::store::MeetingRecord>, dark_tower_core::store::StoreError>
            {
                let row = sqlx::query(&self.queries.get_meeting)
                    .bind(name.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                row.as_ref().map($crate::store::sql::meeting_row).transpose()
            }

            async fn list_meetings(
                &self,
                include_ended: bool,
            ) -> Result<Vec<dark_tower_core::store::MeetingRecord>, dark_tower_core::store::StoreError> {
                let rows = sqlx::query(&self.queries.list_meetings)
                    .bind(include_ended)
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                rows.iter().map($crate::store::sql::meeting_row).collect()
            }

            async fn list_sessions(
                &self,
                meeting: &dark_tower_core::ids::MeetingName,
            ) -> Result<Vec<dark_tower_core::store::SessionRecord>, dark_tower_core::store::StoreError> {
                let rows = sqlx::query(&self.queries.list_sessions)
                    .bind(meeting.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                rows.iter().map($crate::store::sql::session_row).collect()
            }
        }

        #[async_trait::async_trait]
        impl dark_tower_core::store::MeetingWriter for $store {
            async fn create_meeting(
                &self,
                record: dark_tower_core::store::MeetingRecord,
            ) -> Result<dark_tower_core::store::MeetingRecord, dark_tower_core::store::StoreError> {
                use $crate::store::sql::{is_unique_violation, settings_to_text, to_micros};
                let ended = record.ended_at.map(to_micros).transpose()?;
                let result = sqlx::query(&self.queries.insert_meeting)
                    .bind(record.name.as_str())
                    .bind(to_micros(record.created_at)?)
                    .bind(ended)
                    .bind(settings_to_text(&record.settings)?)
                    .execute(&self.pool)
                    .await;
                match result {
                    Ok(_) => Ok(record),
                    Err(e) if is_unique_violation(&e) => {
                        Err(dark_tower_core::store::StoreError::AlreadyExists(record.name))
                    }
                    Err(e) => Err($crate::store::sql::backend(e)),
                }
            }

            async fn end_meeting(
                &self,
                name: &dark_tower_core::ids::MeetingName,
                at: std::time::SystemTime,
            ) -> Result<(), dark_tower_core::store::StoreError> {
                let done = sqlx::query(&self.queries.end_meeting)
                    .bind($crate::store::sql::to_micros(at)?)
                    .bind(name.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                if done.rows_affected() == 0 {
                    return Err(dark_tower_core::store::StoreError::NotFound);
                }
                Ok(())
            }

            async fn session_started(
                &self,
                record: dark_tower_core::store::SessionRecord,
            ) -> Result<(), dark_tower_core::store::StoreError> {
                use $crate::store::sql::to_micros;
                let left = record.left_at.map(to_micros).transpose()?;
                sqlx::query(&self.queries.insert_session)
                    .bind(record.meeting.as_str())
                    .bind($crate::store::sql::participant_to_column(record.participant))
                    .bind(record.identity.as_str())
                    .bind(to_micros(record.joined_at)?)
                    .bind(left)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                Ok(())
            }

            async fn session_ended(
                &self,
                meeting: &dark_tower_core::ids::MeetingName,
                participant: dark_tower_core::ids::ParticipantId,
                at: std::time::SystemTime,
            ) -> Result<(), dark_tower_core::store::StoreError> {
                let done = sqlx::query(&self.queries.end_session)
                    .bind($crate::store::sql::to_micros(at)?)
                    .bind(meeting.as_str())
                    .bind($crate::store::sql::participant_to_column(participant))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::store::sql::backend)?;
                if done.rows_affected() == 0 {
                    return Err(dark_tower_core::store::StoreError::NotFound);
                }
                Ok(())
            }
        }
    };
}

pub(super) use sql_meeting_store;
