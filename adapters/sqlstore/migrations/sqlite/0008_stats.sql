-- 0008_stats: what the support figures need (store/sqlite/stats.go,
-- package stats): each conversation's topic and model tokens, and indexes
-- for reading a period's conversations and the open handoffs.

-- topic labels what a conversation was about: '' until its first turn or
-- request for a person, then 'handoff', 'other', 'payments' or
-- 'faq:<id>' (bot.TopicRank: a label only moves up, in that order). The
-- token columns add up the model tokens of its turns.
ALTER TABLE conversations ADD COLUMN topic TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;

-- ConversationRecords reads the conversations opened since a time.
CREATE INDEX conversations_opened ON conversations (opened_at);
-- OpenQueue lists the handoffs not yet resolved, oldest first.
CREATE INDEX handoffs_open ON handoffs (created_at, id) WHERE state <> 'resolved';
