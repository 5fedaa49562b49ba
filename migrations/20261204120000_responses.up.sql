-- Responses API state (SPEC §14), per client: each stored response of a translated backend,
-- with the input items a continuation (previous_response_id, item_reference) needs; for a
-- backend that keeps its responses itself (forwarded), only which client owns the id.
CREATE TABLE response (
    id VARCHAR(255) PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    forwarded BOOLEAN NOT NULL DEFAULT FALSE,
    input TEXT NOT NULL,
    body TEXT NOT NULL
);
--bun:split
CREATE INDEX response_created ON response (created_at);
