-- How an openai-compatible, ollama or lmstudio backend answers /v1/responses (#16): 'translate'
-- (the default) sends it as Chat Completions, 'native' forwards it to the backend's own /responses.
ALTER TABLE client ADD COLUMN responses_api VARCHAR(10) NOT NULL DEFAULT 'translate';
