-- The OpenTelemetry trace id of a traced request (SPEC §19), empty for the others.
ALTER TABLE request_log ADD COLUMN trace_id VARCHAR(32) NOT NULL DEFAULT '';
