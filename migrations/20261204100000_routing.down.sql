ALTER TABLE request_log DROP COLUMN attempts;
--bun:split
ALTER TABLE client DROP COLUMN fallbacks;
--bun:split
ALTER TABLE client DROP COLUMN upstream_keys;
