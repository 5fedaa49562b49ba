DROP TABLE IF EXISTS model_price;
--bun:split
ALTER TABLE client DROP COLUMN budget_month_micros;
--bun:split
ALTER TABLE client DROP COLUMN budget_day_micros;
--bun:split
ALTER TABLE usage_daily DROP COLUMN unpriced;
--bun:split
ALTER TABLE usage_daily DROP COLUMN cost_micros;
--bun:split
ALTER TABLE usage_daily DROP COLUMN cache_write_tokens;
--bun:split
ALTER TABLE request_log DROP COLUMN cost_micros;
--bun:split
ALTER TABLE request_log DROP COLUMN cache_write_tokens;
