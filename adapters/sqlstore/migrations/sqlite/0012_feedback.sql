-- 0012_feedback: the customer's vote on a bot answer (the feedback buttons
-- under it): one per answer, by the conversation's customer only
-- (bot.Engine.Feedback). The answer's prompt version and the
-- conversation's topic come from the rows it refers to, for the figures.
CREATE TABLE feedback (
    message_id      INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    helpful         INTEGER NOT NULL, -- 1 for 👍, 0 for 👎
    created_at      INTEGER NOT NULL
);
CREATE INDEX feedback_conversation ON feedback (conversation_id);
