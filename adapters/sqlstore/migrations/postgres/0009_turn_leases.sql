-- 0009_turn_leases: the PostgreSQL translation of
-- store/sqlite/migrations/0009_turn_leases.sql. One replica at a time runs
-- a conversation's model turn (bot.TurnLeases, store/postgres/turns.go). A
-- row is a lease: taken before the turn, renewed while the model works,
-- deleted with the answer. One left behind by a replica that died runs out
-- at expires_at, and another replica then answers the conversation's
-- messages.
CREATE TABLE turn_leases (
    conversation_id BIGINT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    owner           TEXT NOT NULL,        -- the replica holding it (bot.Config.Replica)
    expires_at      TIMESTAMPTZ NOT NULL,
    -- Another replica wanted a turn of the conversation while the lease
    -- was held (its messages arrived meanwhile): the holder runs one more.
    wanted          BOOLEAN NOT NULL DEFAULT false
);
