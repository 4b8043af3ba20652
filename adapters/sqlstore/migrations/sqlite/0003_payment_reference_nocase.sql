-- Customers type references in any case ("pay-1003"); the lookup ignores
-- case and this index serves it.
CREATE INDEX payments_reference_nocase ON payments (reference COLLATE NOCASE);
