-- Stored images: content-addressed files in the media store, shared by every row that uses the same
-- bytes. Rows that use a file (conversions, jobs, dex entries) point at it with ON DELETE RESTRICT
-- foreign keys, so a stored_images row (and therefore its file) cannot be removed while any row
-- still references it: the database itself is the reference count. Writers lock the row (upsert)
-- before writing the file; cleanup deletes the row and then the file inside one transaction.
-- Capability tokens for image URLs live on the referencing rows, not here.

CREATE TABLE stored_images (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- relative path in the media store, derived from the content hash
    storage_key text NOT NULL,
    -- sha-256 of the file, lowercase hex
    checksum varchar(64) NOT NULL,
    content_type varchar(50) NOT NULL,
    width integer,
    height integer,
    byte_size bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stored_images_storage_key_key UNIQUE (storage_key),
    CONSTRAINT stored_images_byte_size_check CHECK (byte_size >= 0),
    CONSTRAINT stored_images_dimensions_check
        CHECK ((width IS NULL OR width > 0) AND (height IS NULL OR height > 0))
);

CREATE INDEX stored_images_checksum_idx ON stored_images (checksum);
-- Garbage-collection candidates are found by age.
CREATE INDEX stored_images_created_at_idx ON stored_images (created_at);
