-- 0010_directory: customers come from a directory (bot.Directory), which is
-- the company's API or the customers table. A link or a verification names
-- a customer id the directory knew, so identities and verifications no
-- longer reference the customers table.
ALTER TABLE identities DROP CONSTRAINT IF EXISTS identities_customer_id_fkey;
ALTER TABLE verifications DROP CONSTRAINT IF EXISTS verifications_customer_id_fkey;
-- email is the address the customer gave, held only between the message
-- that gave it and the lookup in the directory when the code is sent
-- (outside any transaction); then it is cleared.
ALTER TABLE verifications ADD COLUMN email TEXT NOT NULL DEFAULT '';

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
    conversation_id BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    used_at         TIMESTAMPTZ
);
CREATE INDEX connect_states_identity ON connect_states (platform, workspace, user_id);
CREATE INDEX connect_states_expires ON connect_states (expires_at);
