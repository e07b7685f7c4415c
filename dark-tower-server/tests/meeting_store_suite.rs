//! One behaviour suite for every `MeetingStore`: in memory, SQLite (a temporary file) and, with
//! the `postgres` feature, the PostgreSQL at `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) in a schema of its own, dropped afterwards. With the
//! feature on, an unreachable database fails the test: it is never skipped.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dark_tower_core::ids::{Identity, MeetingName, ParticipantId};
use dark_tower_core::store::{MeetingRecord, MeetingSettings, MeetingStore, SessionRecord, StoreError};

/// Whole seconds: every backend keeps at least microseconds.
fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn name(s: &str) -> MeetingName {
    MeetingName::new(s).expect("valid name")
}

fn meeting(n: &str, created: u64) -> MeetingRecord {
    MeetingRecord {
        name: name(n),
        created_at: at(created),
        ended_at: None,
        settings: MeetingSettings::default(),
    }
}

fn session(m: &str, p: u64, who: &str, joined: u64) -> SessionRecord {
    SessionRecord {
        meeting: name(m),
        participant: ParticipantId::from_u64(p),
        identity: Identity::new(who).expect("valid identity"),
        joined_at: at(joined),
        left_at: None,
    }
}

/// The behaviour every store must have.
async fn suite(store: &dyn MeetingStore) {
    // Nothing yet.
    assert_eq!(store.get_meeting(&name("alpha")).await, Ok(None));
    assert_eq!(store.list_meetings(true).await, Ok(vec![]));
    assert_eq!(store.end_meeting(&name("alpha"), at(1)).await, Err(StoreError::NotFound));
    assert_eq!(store.list_sessions(&name("alpha")).await, Ok(vec![]));

    // Create keeps every field, settings included.
    let mut alpha = meeting("alpha", 10);
    alpha.settings = MeetingSettings {
        max_participants: 7,
        lobby: true,
        e2ee_required: true,
        empty_timeout_secs: 42,
        max_duration_secs: Some(3600),
    };
    assert_eq!(store.create_meeting(alpha.clone()).await, Ok(alpha.clone()));
    assert_eq!(store.get_meeting(&name("alpha")).await, Ok(Some(alpha.clone())));

    // A second live meeting of the same name is refused, and changes nothing.
    let dup = meeting("alpha", 11);
    assert_eq!(store.create_meeting(dup).await, Err(StoreError::AlreadyExists(name("alpha"))));
    assert_eq!(store.get_meeting(&name("alpha")).await, Ok(Some(alpha.clone())));

    // Listing: live ones by name.
    let beta = meeting("beta", 12);
    store.create_meeting(beta.clone()).await.expect("beta");
    assert_eq!(store.list_meetings(false).await, Ok(vec![alpha.clone(), beta.clone()]));

    // End: the record says when; it leaves the live list but stays with include_ended.
    store.end_meeting(&name("alpha"), at(20)).await.expect("end alpha");
    let alpha_ended = MeetingRecord { ended_at: Some(at(20)), ..alpha.clone() };
    assert_eq!(store.get_meeting(&name("alpha")).await, Ok(Some(alpha_ended.clone())));
    assert_eq!(store.list_meetings(false).await, Ok(vec![beta.clone()]));
    assert_eq!(store.list_meetings(true).await, Ok(vec![alpha_ended.clone(), beta.clone()]));
    // Ending it again: no live meeting of that name.
    assert_eq!(store.end_meeting(&name("alpha"), at(21)).await, Err(StoreError::NotFound));

    // The ended name is reusable; get returns the newest; the history stays listed.
    let alpha2 = meeting("alpha", 30);
    assert_eq!(store.create_meeting(alpha2.clone()).await, Ok(alpha2.clone()));
    assert_eq!(store.get_meeting(&name("alpha")).await, Ok(Some(alpha2.clone())));
    assert_eq!(store.list_meetings(false).await, Ok(vec![alpha2.clone(), beta.clone()]));
    assert_eq!(store.list_meetings(true).await, Ok(vec![alpha_ended.clone(), alpha2.clone(), beta.clone()]));
    assert_eq!(
        store.create_meeting(meeting("alpha", 31)).await,
        Err(StoreError::AlreadyExists(name("alpha")))
    );

    // Sessions: in the order they started, per meeting; ends recorded on the newest session of
    // that participant, the first end time kept.
    let big = u64::MAX - 5; // ids use all 64 bits
    store.session_started(session("alpha", 1, "ann", 31)).await.expect("ann");
    store.session_started(session("alpha", big, "bob", 32)).await.expect("bob");
    store.session_started(session("beta", 3, "cyd", 33)).await.expect("cyd");
    store.session_ended(&name("alpha"), ParticipantId::from_u64(1), at(40)).await.expect("ann leaves");
    store.session_ended(&name("alpha"), ParticipantId::from_u64(1), at(41)).await.expect("again");
    store.session_started(session("alpha", 1, "ann", 50)).await.expect("ann again");
    store.session_ended(&name("alpha"), ParticipantId::from_u64(1), at(60)).await.expect("ann leaves again");
    let sessions = store.list_sessions(&name("alpha")).await.expect("list");
    assert_eq!(
        sessions,
        vec![
            SessionRecord { left_at: Some(at(40)), ..session("alpha", 1, "ann", 31) },
            session("alpha", big, "bob", 32),
            SessionRecord { left_at: Some(at(60)), ..session("alpha", 1, "ann", 50) },
        ]
    );
    assert_eq!(store.list_sessions(&name("beta")).await, Ok(vec![session("beta", 3, "cyd", 33)]));
    assert_eq!(
        store.session_ended(&name("alpha"), ParticipantId::from_u64(99), at(70)).await,
        Err(StoreError::NotFound)
    );
    assert_eq!(
        store.session_ended(&name("gamma"), ParticipantId::from_u64(1), at(70)).await,
        Err(StoreError::NotFound)
    );
}

#[tokio::test]
async fn memory_store_passes_the_suite() {
    suite(&dark_tower_core::store::MemoryMeetingStore::default()).await;
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_store_passes_the_suite_and_keeps_records_when_reopened() {
    use dark_tower_core::store::MeetingReader;
    use dark_tower_server::store::SqliteMeetingStore;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("meetings.sqlite3");
    let store = SqliteMeetingStore::open(&path).await.expect("open sqlite");
    suite(&store).await;
    let before = store.list_meetings(true).await.expect("list");
    store.close().await;
    // Reopening applies no migration twice and finds everything.
    let again = SqliteMeetingStore::open(&path).await.expect("reopen sqlite");
    assert_eq!(again.list_meetings(true).await, Ok(before));
    assert_eq!(again.list_sessions(&name("alpha")).await.map(|s| s.len()), Ok(3));
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_store_passes_the_suite() {
    use dark_tower_core::store::MeetingReader;
    let schema = common::PgSchema::create().await;
    let result = async {
        let store = schema.store().await;
        suite(&store).await;
        let before = store.list_meetings(true).await.expect("list");
        store.close().await;
        let again = schema.store().await;
        assert_eq!(again.list_meetings(true).await, Ok(before));
        again.close().await;
    };
    // Drop the schema whether the suite passed or not, then report.
    let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(result)).await;
    schema.drop_schema().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
