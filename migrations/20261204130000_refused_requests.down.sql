ALTER TABLE request_log DROP COLUMN refused;
--bun:split
ALTER TABLE usage_daily DROP COLUMN refused;
