ALTER TABLE request_log DROP COLUMN tool_steps;
ALTER TABLE client DROP COLUMN mcp_servers;
DROP TABLE mcp_server;
