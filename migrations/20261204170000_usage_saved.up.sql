-- What the prompt cache saved (#24): each day's priced requests' cache reads at (input − cache
-- read price) less their cache writes at (cache write − input price), in micro-dollars.
ALTER TABLE usage_daily ADD COLUMN saved_micros BIGINT NOT NULL DEFAULT 0;
