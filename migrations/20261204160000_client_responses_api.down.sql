ALTER TABLE client DROP COLUMN responses_api;
