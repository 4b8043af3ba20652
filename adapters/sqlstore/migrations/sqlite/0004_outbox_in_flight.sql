-- A claimed row is in flight until its outcome is recorded. A row claimed
-- again while still in flight was being sent when its dispatcher died: the
-- platform may have it already (bot.Outgoing.MaybeSent).
ALTER TABLE outbox ADD COLUMN in_flight INTEGER NOT NULL DEFAULT 0;
