DROP INDEX IF EXISTS request_log_client;
--bun:split
CREATE INDEX request_log_client_time ON request_log (client_id, time);
