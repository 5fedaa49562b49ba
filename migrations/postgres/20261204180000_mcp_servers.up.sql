-- PostgreSQL's twin of sqlite/20261204180000_mcp_servers.up.sql: BIGSERIAL and BYTEA for SQLite's
-- INTEGER PRIMARY KEY AUTOINCREMENT and BLOB.
-- MCP servers the gateway runs tools from (#20, SPEC §18). headers holds the request headers
-- as sealed JSON (AES-256-GCM under the master key, like upstream keys); header_names lists
-- their names so the admin sees which are set, never their values. tools caches the server's
-- tool list as JSON.
CREATE TABLE mcp_server (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE,
    url TEXT NOT NULL,
    headers BYTEA,
    header_names TEXT NOT NULL DEFAULT '[]',
    tools TEXT NOT NULL DEFAULT '[]',
    tools_fetched_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Each client's allowlist of MCP servers (by name), used in tool mode gateway and on /mcp.
ALTER TABLE client ADD COLUMN mcp_servers TEXT NOT NULL DEFAULT '[]';
-- The tool loop's steps of a request (tool, duration, status, result size), as JSON.
ALTER TABLE request_log ADD COLUMN tool_steps TEXT NOT NULL DEFAULT '[]';
