-- Slack users may be linked to customers by the email on their profile
-- (SLACK_LINK_BY_EMAIL); the lookup is case-insensitive.
CREATE INDEX customers_email ON customers (email COLLATE NOCASE) WHERE email <> '';
