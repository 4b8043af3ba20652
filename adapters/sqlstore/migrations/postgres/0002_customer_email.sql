-- Slack users may be linked to customers by the email on their profile
-- (SLACK_LINK_BY_EMAIL); the lookup is case-insensitive, on lower(email).
CREATE INDEX customers_email ON customers (lower(email)) WHERE email <> '';
