-- 0009_turn_leases: one replica at a time runs a conversation's model turn
-- (bot.TurnLeases, store/sqlite/turns.go). A row is a lease: taken before
-- the turn, renewed while the model works, deleted with the answer. One
-- left behind by a replica that died runs out at expires_at, and another
-- replica then answers the conversation's messages.
CREATE TABLE turn_leases (
    conversation_id INTEGER PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    owner           TEXT NOT NULL,    -- the replica holding it (bot.Config.Replica)
    expires_at      INTEGER NOT NULL, -- Unix nanoseconds
    -- Another replica wanted a turn of the conversation while the lease
    -- was held (its messages arrived meanwhile): the holder runs one more.
    wanted          INTEGER NOT NULL DEFAULT 0
);
