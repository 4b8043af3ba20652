-- 0007_privacy: the audit log, identity verification by code, the daily
-- token budget, and the indexes the retention job reads.

-- audit_log records every access to account data by a tool, every change of
-- an identity link, and every export and erasure. It is append-only: the
-- triggers below refuse UPDATE and DELETE, so an entry, once written, stays
-- as it was. It holds identifiers and reason codes, never message text,
-- emails, codes or card numbers, and it has no foreign keys: entries outlive
-- the conversations and customers they are about (see docs/privacy.md).
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,            -- "slack:T1:U1", "admin:NAME", "system:retention"
    actor_customer  TEXT NOT NULL DEFAULT '', -- the customer the actor was linked to
    customer_id     TEXT NOT NULL DEFAULT '', -- whose data the entry is about
    action          TEXT NOT NULL,
    record          TEXT NOT NULL DEFAULT '',
    outcome         TEXT NOT NULL,            -- allowed | refused
    reason          TEXT NOT NULL DEFAULT '',
    conversation_id INTEGER
);
-- `firstline audit --since 7d` reads by time.
CREATE INDEX audit_log_at ON audit_log (at);
-- `--customer ID` reads entries about a customer, and by their identities.
CREATE INDEX audit_log_customer ON audit_log (customer_id, at) WHERE customer_id <> '';
CREATE INDEX audit_log_actor_customer ON audit_log (actor_customer, at) WHERE actor_customer <> '';
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- verifications hold one identity verification per chat identity: the step
-- it is at, a salted hash of the code sent (never the code), attempts and
-- the lockout. Keyed by identity, not conversation, so that opening a new
-- conversation does not lift a lockout.
CREATE TABLE verifications (
    platform        TEXT NOT NULL,
    workspace       TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL,
    conversation_id INTEGER,                  -- where the flow runs; no key: it may be erased first
    step            TEXT NOT NULL DEFAULT '',
    customer_id     TEXT REFERENCES customers (id) ON DELETE SET NULL,
    code_hash       TEXT NOT NULL DEFAULT '',
    expires_at      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    sends           INTEGER NOT NULL DEFAULT 0,
    sends_since     INTEGER,
    locked_until    INTEGER,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (platform, workspace, user_id)
);
CREATE INDEX verifications_customer ON verifications (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX verifications_conversation ON verifications (conversation_id) WHERE conversation_id IS NOT NULL;
-- The retention job deletes finished ones.
CREATE INDEX verifications_updated ON verifications (updated_at);

-- token_usage counts the model tokens of each UTC day (YYYY-MM-DD) across
-- replicas, for FIRSTLINE_DAILY_TOKEN_CAP; alerted_at is set once the
-- agents were told that the day's budget is used up.
CREATE TABLE token_usage (
    day        TEXT PRIMARY KEY,
    tokens     INTEGER NOT NULL DEFAULT 0,
    alerted_at INTEGER
);

-- Retention: messages whose words are still kept, delivered outbox rows
-- by age (they hold the texts sent), conversations whose display name is
-- still kept, handoffs whose reason is.
CREATE INDEX messages_worded_created ON messages (created_at) WHERE text <> '' OR author_name <> '';
CREATE INDEX outbox_done_created ON outbox (created_at) WHERE status <> 'pending';
CREATE INDEX conversations_named_last_message ON conversations (last_message_at) WHERE user_name <> '';
CREATE INDEX handoffs_reason_created ON handoffs (created_at) WHERE reason <> '';
