ALTER TABLE request_log DROP COLUMN trace_id;
