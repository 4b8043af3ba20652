-- 0006_handoff_queue: the state of the handoff timers (store/sqlite/queue.go).
--
-- Every change to these columns is a conditional UPDATE, so that replicas
-- ticking at once act once: one re-ping digest, one message to a customer,
-- one return to the queue.

-- repings counts the digests that re-mentioned a waiting handoff after it had
-- waited a full interval unmentioned; repinged_at is the last digest that
-- listed it (NULL: only its announcement has).
ALTER TABLE handoffs ADD COLUMN repings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN repinged_at INTEGER;
-- What the customer of a waiting handoff was last told (bot.Notice), with a
-- version for compare-and-set.
ALTER TABLE handoffs ADD COLUMN notice_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN told_position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE handoffs ADD COLUMN told_position_at INTEGER;
ALTER TABLE handoffs ADD COLUMN availability TEXT NOT NULL DEFAULT '';
ALTER TABLE handoffs ADD COLUMN availability_at INTEGER;

-- The agent timeout looks at the claimed handoffs of the agent channel.
CREATE INDEX handoffs_claimed ON handoffs (agent_platform, agent_channel) WHERE state = 'claimed';
