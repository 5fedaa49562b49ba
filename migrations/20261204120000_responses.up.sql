-- Responses API state (SPEC §14): each stored response of a translated backend, with the input
-- items a continuation (previous_response_id, item_reference) needs, kept per client.
CREATE TABLE response (
    id VARCHAR(64) PRIMARY KEY,
    client_id BIGINT NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    input TEXT NOT NULL,
    body TEXT NOT NULL
);
--bun:split
CREATE INDEX response_created ON response (created_at);
