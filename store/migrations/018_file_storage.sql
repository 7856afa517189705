-- Attachments move out of PostgreSQL into the configured storage (a directory, or S3-compatible
-- object storage): a file's row keeps its record and the key of its bytes there. Files stored
-- before keep their bytes in `data` until `linedesk migrate` moves them.
ALTER TABLE files ALTER COLUMN data DROP NOT NULL;
ALTER TABLE files ADD COLUMN blob_key text;
ALTER TABLE files ADD CONSTRAINT files_bytes_somewhere CHECK (data IS NOT NULL OR blob_key IS NOT NULL);
