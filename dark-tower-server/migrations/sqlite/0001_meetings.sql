-- Meetings and participant sessions (SQLite). Times are microseconds since the Unix epoch.
-- A name may be reused once its meeting has ended: at most one live meeting per name.
CREATE TABLE meetings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    created_at_us INTEGER NOT NULL,
    ended_at_us   INTEGER,
    -- MeetingSettings as JSON: new settings need no migration.
    settings      TEXT    NOT NULL
);
CREATE UNIQUE INDEX meetings_one_live_per_name ON meetings (name) WHERE ended_at_us IS NULL;
CREATE INDEX meetings_by_name ON meetings (name, id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting      TEXT    NOT NULL,
    participant  INTEGER NOT NULL,
    identity     TEXT    NOT NULL,
    joined_at_us INTEGER NOT NULL,
    left_at_us   INTEGER
);
CREATE INDEX sessions_by_meeting ON sessions (meeting, participant, id);
