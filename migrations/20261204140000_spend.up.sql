-- Spend (SPEC §16): cache writes counted apart from cache reads, each request's cost in
-- micro-dollars (NULL: the model has no price, which is not the same as free), the daily rollups'
-- cost and count of unpriced requests, dollar budgets per client, and the admins' price overrides.
ALTER TABLE request_log ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE request_log ADD COLUMN cost_micros BIGINT;
--bun:split
ALTER TABLE usage_daily ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE usage_daily ADD COLUMN cost_micros BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE usage_daily ADD COLUMN unpriced BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE client ADD COLUMN budget_day_micros BIGINT NOT NULL DEFAULT 0;
--bun:split
ALTER TABLE client ADD COLUMN budget_month_micros BIGINT NOT NULL DEFAULT 0;
--bun:split
CREATE TABLE model_price (
    model VARCHAR(200) PRIMARY KEY,
    input_usd_mtok DOUBLE PRECISION NOT NULL DEFAULT 0,
    output_usd_mtok DOUBLE PRECISION NOT NULL DEFAULT 0,
    cache_read_usd_mtok DOUBLE PRECISION NOT NULL DEFAULT 0,
    cache_write_usd_mtok DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);
