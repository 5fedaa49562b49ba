-- Automatic Anthropic cache breakpoints for requests translated from another protocol (#24):
-- 'auto' (the default) places them, 'off' leaves the prompt as the caller sent it.
ALTER TABLE client ADD COLUMN prompt_cache VARCHAR(10) NOT NULL DEFAULT 'auto';
