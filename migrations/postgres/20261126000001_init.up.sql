-- PostgreSQL's twin of sqlite/20261126000001_init.up.sql: BIGSERIAL for SQLite's INTEGER PRIMARY
-- KEY AUTOINCREMENT, BYTEA for BLOB; everything else is the same. Times are stored in UTC as
-- TIMESTAMP in both databases (bun writes every time in UTC).
CREATE TABLE client (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    key_hash VARCHAR(64) NOT NULL UNIQUE,
    key_prefix VARCHAR(16) NOT NULL,
    key_hint VARCHAR(8) NOT NULL,
    backend VARCHAR(40) NOT NULL,
    base_url TEXT NOT NULL DEFAULT '',
    upstream_key BYTEA,
    upstream_key_hint VARCHAR(8) NOT NULL DEFAULT '',
    azure_api_version VARCHAR(40) NOT NULL DEFAULT '',
    default_model VARCHAR(200) NOT NULL DEFAULT '',
    model_whitelist TEXT NOT NULL DEFAULT '[]',
    models_cache TEXT NOT NULL DEFAULT '[]',
    models_fetched_at TIMESTAMP,
    system_prompt TEXT NOT NULL DEFAULT '',
    tool_mode VARCHAR(20) NOT NULL DEFAULT 'passthrough',
    requests_per_minute BIGINT NOT NULL DEFAULT 0,
    requests_per_hour BIGINT NOT NULL DEFAULT 0,
    requests_per_day BIGINT NOT NULL DEFAULT 0,
    max_input_tokens_per_day BIGINT NOT NULL DEFAULT 0,
    max_output_tokens_per_day BIGINT NOT NULL DEFAULT 0,
    max_requests_per_day BIGINT NOT NULL DEFAULT 0,
    max_input_tokens BIGINT NOT NULL DEFAULT 0,
    max_output_tokens BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
--bun:split
CREATE TABLE usage_daily (
    client_id BIGINT NOT NULL,
    day VARCHAR(10) NOT NULL,
    model VARCHAR(200) NOT NULL,
    requests BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, day, model)
);
--bun:split
CREATE INDEX usage_daily_day ON usage_daily (day);
--bun:split
CREATE TABLE request_log (
    id BIGSERIAL PRIMARY KEY,
    time TIMESTAMP NOT NULL,
    request_id VARCHAR(64) NOT NULL,
    client_id BIGINT NOT NULL,
    endpoint VARCHAR(100) NOT NULL,
    model_requested VARCHAR(200) NOT NULL DEFAULT '',
    model_used VARCHAR(200) NOT NULL DEFAULT '',
    provider VARCHAR(40) NOT NULL DEFAULT '',
    stream BOOLEAN NOT NULL DEFAULT FALSE,
    status INTEGER NOT NULL,
    error_class VARCHAR(40) NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    input_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens BIGINT NOT NULL DEFAULT 0,
    estimated BOOLEAN NOT NULL DEFAULT FALSE,
    latency_ms BIGINT NOT NULL DEFAULT 0,
    ttft_ms BIGINT NOT NULL DEFAULT 0,
    finish_reason VARCHAR(40) NOT NULL DEFAULT '',
    client_ip VARCHAR(64) NOT NULL DEFAULT '',
    request_body TEXT NOT NULL DEFAULT '',
    response_body TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX request_log_time ON request_log (time);
--bun:split
CREATE INDEX request_log_client_time ON request_log (client_id, time);
--bun:split
CREATE TABLE admin_user (
    id BIGSERIAL PRIMARY KEY,
    username VARCHAR(100) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE admin_session (
    id VARCHAR(64) PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES admin_user (id) ON DELETE CASCADE,
    csrf_token VARCHAR(64) NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
--bun:split
CREATE TABLE admin_token (
    id BIGSERIAL PRIMARY KEY,
    name VARCHAR(200) NOT NULL,
    token_hash VARCHAR(64) NOT NULL UNIQUE,
    hint VARCHAR(8) NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP
);
--bun:split
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    time TIMESTAMP NOT NULL,
    actor VARCHAR(200) NOT NULL,
    action VARCHAR(100) NOT NULL,
    target VARCHAR(200) NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
--bun:split
CREATE INDEX audit_log_time ON audit_log (time);
--bun:split
CREATE TABLE setting (
    key VARCHAR(100) PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
