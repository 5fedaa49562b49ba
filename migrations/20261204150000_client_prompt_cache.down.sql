ALTER TABLE client DROP COLUMN prompt_cache;
