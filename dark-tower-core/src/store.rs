//! Durable meeting records: the [`MeetingStore`] trait (reads split from writes) and its in-memory
//! implementation. SQL backends live in the server crate behind cargo features.

use std::sync::Mutex;
use std::time::SystemTime;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::ids::{Identity, MeetingName, ParticipantId};

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A live meeting with that name exists.
    #[error("meeting {0} already exists")]
    AlreadyExists(MeetingName),
    /// No such record.
    #[error("not found")]
    NotFound,
    /// The backend failed.
    #[error("store backend: {0}")]
    Backend(String),
}

/// Settings of one meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingSettings {
    /// Most participants at once.
    #[serde(default = "default_max_participants")]
    pub max_participants: u32,
    /// Hold non-hosts in a lobby until admitted.
    #[serde(default)]
    pub lobby: bool,
    /// Every client must encrypt media end to end.
    #[serde(default)]
    pub e2ee_required: bool,
    /// Close the meeting this long after the last participant leaves, in seconds.
    #[serde(default = "default_empty_timeout")]
    pub empty_timeout_secs: u32,
    /// End the meeting for everyone this long after it was created, in seconds (none: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration_secs: Option<u32>,
}

fn default_max_participants() -> u32 {
    100
}
fn default_empty_timeout() -> u32 {
    300
}

impl Default for MeetingSettings {
    fn default() -> Self {
        Self {
            max_participants: default_max_participants(),
            lobby: false,
            e2ee_required: false,
            empty_timeout_secs: default_empty_timeout(),
            max_duration_secs: None,
        }
    }
}

/// A meeting as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingRecord {
    /// App-chosen name.
    pub name: MeetingName,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it ended, if it has.
    pub ended_at: Option<SystemTime>,
    /// Its settings.
    pub settings: MeetingSettings,
}

/// One participant session, for audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Meeting.
    pub meeting: MeetingName,
    /// Participant session id.
    pub participant: ParticipantId,
    /// Who.
    pub identity: Identity,
    /// When it joined.
    pub joined_at: SystemTime,
    /// When it left, if it has.
    pub left_at: Option<SystemTime>,
}

/// Reading meetings.
///
/// A name is reused once its meeting has ended, so a store keeps a history per name: at most one
/// live meeting, any number of ended ones before it.
#[async_trait]
pub trait MeetingReader: Send + Sync + 'static {
    /// The newest meeting with this name, live or ended.
    async fn get_meeting(&self, name: &MeetingName) -> Result<Option<MeetingRecord>, StoreError>;
    /// Live meetings, and every ended one too if `include_ended`; ordered by name, then oldest
    /// first.
    async fn list_meetings(&self, include_ended: bool) -> Result<Vec<MeetingRecord>, StoreError>;
    /// Sessions of the meeting, oldest first.
    async fn list_sessions(&self, meeting: &MeetingName) -> Result<Vec<SessionRecord>, StoreError>;
}

/// Writing meetings.
#[async_trait]
pub trait MeetingWriter: Send + Sync + 'static {
    /// Creates a live meeting; fails if a live one with the same name exists (an ended one is
    /// superseded).
    async fn create_meeting(&self, record: MeetingRecord) -> Result<MeetingRecord, StoreError>;
    /// Marks the live meeting ended; [`StoreError::NotFound`] if no meeting of that name is live.
    async fn end_meeting(&self, name: &MeetingName, at: SystemTime) -> Result<(), StoreError>;
    /// Records a participant session start.
    async fn session_started(&self, record: SessionRecord) -> Result<(), StoreError>;
    /// Records the end of the newest session of `participant` in `meeting` (a second end keeps
    /// the first time); [`StoreError::NotFound`] if there is none.
    async fn session_ended(
        &self,
        meeting: &MeetingName,
        participant: ParticipantId,
        at: SystemTime,
    ) -> Result<(), StoreError>;
}

/// A full meeting store.
pub trait MeetingStore: MeetingReader + MeetingWriter {}
impl<T: MeetingReader + MeetingWriter> MeetingStore for T {}

/// An in-memory [`MeetingStore`]; forgets everything on restart.
#[derive(Debug, Default)]
pub struct MemoryMeetingStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    /// Every meeting ever created, oldest first.
    meetings: Vec<MeetingRecord>,
    sessions: Vec<SessionRecord>,
}

impl MemoryMeetingStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, MemoryInner>, StoreError> {
        self.inner.lock().map_err(|_| StoreError::Backend("poisoned lock".into()))
    }
}

#[async_trait]
impl MeetingReader for MemoryMeetingStore {
    async fn get_meeting(&self, name: &MeetingName) -> Result<Option<MeetingRecord>, StoreError> {
        Ok(self.lock()?.meetings.iter().rev().find(|m| &m.name == name).cloned())
    }

    async fn list_meetings(&self, include_ended: bool) -> Result<Vec<MeetingRecord>, StoreError> {
        let mut v: Vec<_> =
            self.lock()?.meetings.iter().filter(|m| include_ended || m.ended_at.is_none()).cloned().collect();
        // Stable: meetings of one name stay oldest first.
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    async fn list_sessions(&self, meeting: &MeetingName) -> Result<Vec<SessionRecord>, StoreError> {
        Ok(self.lock()?.sessions.iter().filter(|s| &s.meeting == meeting).cloned().collect())
    }
}

#[async_trait]
impl MeetingWriter for MemoryMeetingStore {
    async fn create_meeting(&self, record: MeetingRecord) -> Result<MeetingRecord, StoreError> {
        let mut inner = self.lock()?;
        if inner.meetings.iter().any(|m| m.name == record.name && m.ended_at.is_none()) {
            return Err(StoreError::AlreadyExists(record.name));
        }
        inner.meetings.push(record.clone());
        Ok(record)
    }

    async fn end_meeting(&self, name: &MeetingName, at: SystemTime) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let live = inner.meetings.iter_mut().find(|m| &m.name == name && m.ended_at.is_none());
        let m = live.ok_or(StoreError::NotFound)?;
        m.ended_at = Some(at);
        Ok(())
    }

    async fn session_started(&self, record: SessionRecord) -> Result<(), StoreError> {
        self.lock()?.sessions.push(record);
        Ok(())
    }

    async fn session_ended(
        &self,
        meeting: &MeetingName,
        participant: ParticipantId,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let s = inner
            .sessions
            .iter_mut()
            .rev()
            .find(|s| &s.meeting == meeting && s.participant == participant)
            .ok_or(StoreError::NotFound)?;
        s.left_at.get_or_insert(at);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    #[test]
    fn create_end_recreate() {
        block_on(async {
            let s = MemoryMeetingStore::default();
            let name = MeetingName::new("m").unwrap();
            let rec = MeetingRecord {
                name: name.clone(),
                created_at: SystemTime::UNIX_EPOCH,
                ended_at: None,
                settings: MeetingSettings::default(),
            };
            s.create_meeting(rec.clone()).await.unwrap();
            assert_eq!(s.create_meeting(rec.clone()).await, Err(StoreError::AlreadyExists(name.clone())));
            s.end_meeting(&name, SystemTime::UNIX_EPOCH).await.unwrap();
            assert!(s.list_meetings(false).await.unwrap().is_empty());
            assert_eq!(s.list_meetings(true).await.unwrap().len(), 1);
            s.create_meeting(rec).await.unwrap();
            assert_eq!(s.list_meetings(false).await.unwrap().len(), 1);
        });
    }
}
