-- 0001_init: Firstline's initial schema.
--
-- Conventions (see store/sqlite/sqlite.go):
--   * Times are INTEGER Unix nanoseconds in UTC; NULL means "not yet" (a zero time.Time).
--   * Parts of keys are '' rather than NULL when absent (a Discord DM has no
--     workspace, a DM has no thread), because NULLs never collide in a UNIQUE
--     index and the one-open-conversation-per-key rule would silently stop holding.
--   * Optional references and optional unique keys are NULL when absent, so
--     foreign keys and unique indexes only apply to values that are set.
--   * Every foreign key has an index on its child column: SQLite scans the
--     child table on each parent delete otherwise (erasure, retention).

-- customers are the company's customers, as chat identities are linked to them.
CREATE TABLE customers (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT ''
);

-- identities link a chat user on one platform and workspace to a customer.
CREATE TABLE identities (
    platform    TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT '',
    user_id     TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, workspace, user_id)
);
CREATE INDEX identities_customer ON identities (customer_id);

-- payments is the built-in payment source, used when no payment API is configured.
CREATE TABLE payments (
    reference   TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    amount      TEXT NOT NULL, -- decimal string, never a float
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL,
    merchant    TEXT NOT NULL DEFAULT '',
    created_at  INTEGER,
    updated_at  INTEGER
);
-- CustomerPayments: a customer's payments, newest first.
CREATE INDEX payments_customer_created ON payments (customer_id, created_at DESC);

-- conversations are customer conversations at one key (platform, workspace, channel, thread).
CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    platform          TEXT NOT NULL,
    workspace         TEXT NOT NULL DEFAULT '',
    channel           TEXT NOT NULL,
    thread            TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL,
    private           INTEGER NOT NULL DEFAULT 0,
    user_id           TEXT NOT NULL DEFAULT '',
    user_name         TEXT NOT NULL DEFAULT '',
    -- A snapshot of the link when the conversation was looked up, not a
    -- foreign key: the conversation outlives a later unlink.
    customer_id       TEXT,
    lang              TEXT NOT NULL DEFAULT '',
    rating_handoff_id INTEGER REFERENCES handoffs (id) ON DELETE SET NULL,
    misses            INTEGER NOT NULL DEFAULT 0,
    opened_at         INTEGER NOT NULL,
    last_message_at   INTEGER,
    closed_at         INTEGER
);
-- At most one open conversation per key; also serves ActiveConversation.
CREATE UNIQUE INDEX conversations_open_key
    ON conversations (platform, workspace, channel, thread)
    WHERE closed_at IS NULL;
-- The idle-timeout sweep looks for open conversations by last activity.
CREATE INDEX conversations_open_last_message
    ON conversations (last_message_at)
    WHERE closed_at IS NULL;
-- Export and erasure find a customer's conversations.
CREATE INDEX conversations_customer ON conversations (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX conversations_rating_handoff ON conversations (rating_handoff_id) WHERE rating_handoff_id IS NOT NULL;

-- messages are the stored messages of conversations.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    author_name     TEXT NOT NULL DEFAULT '',
    text            TEXT NOT NULL,
    -- "<platform>:<platform message id>"; NULL for messages the bot wrote.
    dedupe_key      TEXT,
    prompt_version  TEXT NOT NULL DEFAULT '',
    processed       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
-- Every platform message is handled once.
CREATE UNIQUE INDEX messages_dedupe ON messages (dedupe_key) WHERE dedupe_key IS NOT NULL;
-- RecentMessages: a conversation's history in the order it was stored.
CREATE INDEX messages_conversation ON messages (conversation_id, id);
-- Unprocessed: crash recovery reads only the few customer messages not yet handled.
CREATE INDEX messages_unprocessed ON messages (id) WHERE role = 'customer' AND processed = 0;
-- Retention deletes by age.
CREATE INDEX messages_created ON messages (created_at);

-- handoffs are escalations of conversations to human agents.
CREATE TABLE handoffs (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    state           TEXT NOT NULL,
    triggered_by    TEXT NOT NULL, -- bot.Trigger ("trigger" is an SQL keyword)
    reason          TEXT NOT NULL DEFAULT '',
    agent_platform  TEXT NOT NULL DEFAULT '',
    agent_channel   TEXT NOT NULL DEFAULT '',
    announce_id     INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    agent_id        TEXT NOT NULL DEFAULT '',
    agent_name      TEXT NOT NULL DEFAULT '',
    rating          INTEGER, -- 1–5; NULL until rated, so AVG(rating) is the CSAT
    created_at      INTEGER NOT NULL,
    claimed_at      INTEGER,
    resolved_at     INTEGER
);
CREATE INDEX handoffs_conversation ON handoffs (conversation_id);
-- QueuePosition and the re-ping digest rank the waiting handoffs.
CREATE INDEX handoffs_waiting ON handoffs (created_at, id) WHERE state = 'waiting';
-- HandoffByThread joins from the delivered announcement.
CREATE INDEX handoffs_announce ON handoffs (announce_id) WHERE announce_id IS NOT NULL;

-- outbox holds every message the product sends until it is delivered.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,
    workspace       TEXT NOT NULL DEFAULT '',
    channel         TEXT NOT NULL,
    thread          TEXT NOT NULL DEFAULT '',
    parent_id       INTEGER REFERENCES outbox (id) ON DELETE SET NULL,
    stream          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    author          TEXT NOT NULL DEFAULT '',
    text            TEXT NOT NULL,
    buttons         TEXT, -- JSON array; NULL when there are none
    mention         INTEGER NOT NULL DEFAULT 0,
    conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
    handoff_id      INTEGER REFERENCES handoffs (id) ON DELETE SET NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    platform_msg_id TEXT, -- NULL until delivered
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
-- Due: the head of each stream among pending rows. Small, since delivered
-- rows leave it.
CREATE INDEX outbox_pending ON outbox (stream, id) WHERE status = 'pending';
-- HandoffByThread: the delivered message an agent replies under.
CREATE INDEX outbox_delivered ON outbox (platform, channel, platform_msg_id) WHERE platform_msg_id IS NOT NULL;
CREATE INDEX outbox_parent ON outbox (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX outbox_conversation ON outbox (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX outbox_handoff ON outbox (handoff_id) WHERE handoff_id IS NOT NULL;
