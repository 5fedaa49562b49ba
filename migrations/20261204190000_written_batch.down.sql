DROP TABLE IF EXISTS written_batch;
