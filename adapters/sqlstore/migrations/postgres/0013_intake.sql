-- 0013_intake: the PostgreSQL translation of the SQLite migration. Platform
-- events stored before the adapter's platform work and the engine's Accept
-- (bot.Intakes): a Discord mention waits here while its thread is started,
-- so that a crash in between loses nothing. Rows live for seconds; the
-- retention job deletes any left over a day.
CREATE TABLE intake (
    platform   TEXT NOT NULL,
    event_key  TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, event_key)
);
CREATE INDEX intake_created ON intake (platform, created_at);
