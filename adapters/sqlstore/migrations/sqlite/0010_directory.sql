-- 0010_directory: customers come from a directory (bot.Directory), which is
-- the company's API or the customers table. A link or a verification names
-- a customer id the directory knew, so identities and verifications no
-- longer reference the customers table. SQLite cannot drop a foreign key:
-- both tables are rebuilt, rows copied as they are.
CREATE TABLE identities_0010 (
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, workspace, user_id)
);
INSERT INTO identities_0010 SELECT platform, workspace, user_id, customer_id, created_at FROM identities;
DROP TABLE identities;
ALTER TABLE identities_0010 RENAME TO identities;
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE verifications_0010 (
    platform        TEXT NOT NULL,
    workspace       TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL,
    conversation_id INTEGER,
    step            TEXT NOT NULL DEFAULT '',
    customer_id     TEXT,
    -- email is the address the customer gave, held only between the
    -- message that gave it and the lookup in the directory when the code is
    -- sent (outside any transaction); then it is cleared.
    email           TEXT NOT NULL DEFAULT '',
    code_hash       TEXT NOT NULL DEFAULT '',
    expires_at      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    sends           INTEGER NOT NULL DEFAULT 0,
    sends_since     INTEGER,
    locked_until    INTEGER,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (platform, workspace, user_id)
);
INSERT INTO verifications_0010 (platform, workspace, user_id, conversation_id, step, customer_id, code_hash,
        expires_at, attempts, sends, sends_since, locked_until, updated_at)
    SELECT platform, workspace, user_id, conversation_id, step, customer_id, code_hash,
        expires_at, attempts, sends, sends_since, locked_until, updated_at FROM verifications;
DROP TABLE verifications;
ALTER TABLE verifications_0010 RENAME TO verifications;
CREATE INDEX verifications_customer ON verifications (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX verifications_conversation ON verifications (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX verifications_updated ON verifications (updated_at);

-- connect_states are the single-use tokens of "Connect your account" links
-- (bot/connect.go): the SHA-256 of the token, never the token, the chat
-- identity it is bound to and the conversation to answer in (no key: it
-- may be erased first). used_at is set when the company's back end
-- redeemed it, so that a replay is told apart from an unknown state.
CREATE TABLE connect_states (
    hash            TEXT PRIMARY KEY,
    platform        TEXT NOT NULL,
    workspace       TEXT NOT NULL DEFAULT '',
    user_id         TEXT NOT NULL,
    conversation_id INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);
CREATE INDEX connect_states_identity ON connect_states (platform, workspace, user_id);
CREATE INDEX connect_states_expires ON connect_states (expires_at);
