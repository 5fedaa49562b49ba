ALTER TABLE usage_daily DROP COLUMN saved_micros;
