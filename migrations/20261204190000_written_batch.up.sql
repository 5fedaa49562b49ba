-- The accounting batches written (SPEC §17): when a commit reaches the database but its answer is
-- lost on the way back (a connection to PostgreSQL cut at that moment), the background writer
-- retries the batch, and its id found here tells the store not to count it twice. Kept 7 days.
CREATE TABLE written_batch (
    id VARCHAR(64) PRIMARY KEY,
    written_at TIMESTAMP NOT NULL
);
--bun:split
CREATE INDEX written_batch_time ON written_batch (written_at);
