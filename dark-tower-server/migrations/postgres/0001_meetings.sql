-- Meetings and participant sessions (PostgreSQL). Times are microseconds since the Unix epoch.
-- A name may be reused once its meeting has ended: at most one live meeting per name.
CREATE TABLE meetings (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT   NOT NULL,
    created_at_us BIGINT NOT NULL,
    ended_at_us   BIGINT,
    -- MeetingSettings as JSON: new settings need no migration.
    settings      TEXT   NOT NULL
);
CREATE UNIQUE INDEX meetings_one_live_per_name ON meetings (name) WHERE ended_at_us IS NULL;
CREATE INDEX meetings_by_name ON meetings (name, id);

CREATE TABLE sessions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meeting      TEXT   NOT NULL,
    -- The participant id's 64 bits, stored as a signed integer.
    participant  BIGINT NOT NULL,
    identity     TEXT   NOT NULL,
    joined_at_us BIGINT NOT NULL,
    left_at_us   BIGINT
);
CREATE INDEX sessions_by_meeting ON sessions (meeting, participant, id);
