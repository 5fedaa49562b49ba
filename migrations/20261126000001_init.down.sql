DROP TABLE IF EXISTS setting;
--bun:split
DROP TABLE IF EXISTS audit_log;
--bun:split
DROP TABLE IF EXISTS admin_token;
--bun:split
DROP TABLE IF EXISTS admin_session;
--bun:split
DROP TABLE IF EXISTS admin_user;
--bun:split
DROP TABLE IF EXISTS request_log;
--bun:split
DROP TABLE IF EXISTS usage_daily;
--bun:split
DROP TABLE IF EXISTS client;
