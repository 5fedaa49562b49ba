-- SPEC §15: a client's backend columns stay its first target; upstream_keys holds that target's
-- further keys and fallbacks its further targets (JSON, keys encrypted like upstream_key).
-- Existing clients get no extra key and no fallback: their routing is what it was.
ALTER TABLE client ADD COLUMN upstream_keys TEXT NOT NULL DEFAULT '[]';
--bun:split
ALTER TABLE client ADD COLUMN fallbacks TEXT NOT NULL DEFAULT '[]';
--bun:split
-- Every upstream attempt of a request (JSON): target, status, latency, error; the last answered.
ALTER TABLE request_log ADD COLUMN attempts TEXT NOT NULL DEFAULT '[]';
