-- 0012_feedback: the PostgreSQL translation of the SQLite migration. The
-- customer's vote on a bot answer (the feedback buttons under it): one per
-- answer, by the conversation's customer only (bot.Engine.Feedback). The
-- answer's prompt version and the conversation's topic come from the rows
-- it refers to, for the figures.
CREATE TABLE feedback (
    message_id      BIGINT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id BIGINT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    helpful         BOOLEAN NOT NULL, -- true for 👍
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_conversation ON feedback (conversation_id);
