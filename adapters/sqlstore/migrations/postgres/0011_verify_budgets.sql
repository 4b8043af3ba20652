-- 0011_verify_budgets: the PostgreSQL translation of the SQLite migration.
-- Identity verification by code is limited per target as well as per chat
-- identity (bot/verify.go), so that many identities
-- cannot flood one customer's inbox with codes or share out guesses at
-- them. A budget is keyed by the SHA-256 of the normalized email the codes
-- were asked for ("email:<hex>"), known to the directory or not, so that a
-- customer's address and anybody else's are limited alike.
CREATE TABLE verify_budgets (
    target         TEXT PRIMARY KEY,
    customer_id    TEXT,              -- set once a code went to a customer: erasure finds it
    sends          INTEGER NOT NULL DEFAULT 0,
    sends_since    TIMESTAMPTZ,
    failures       INTEGER NOT NULL DEFAULT 0,
    failures_since TIMESTAMPTZ,
    locked_until   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX verify_budgets_customer ON verify_budgets (customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX verify_budgets_updated ON verify_budgets (updated_at);

-- The budget a verification in progress counts against.
ALTER TABLE verifications ADD COLUMN target TEXT NOT NULL DEFAULT '';
