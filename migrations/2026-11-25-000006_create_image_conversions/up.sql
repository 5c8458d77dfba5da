-- Image conversions: step one of the two-step upload (upload -> dex-compatible PNG). Temporary:
-- expired conversions are deleted by a cron job; jobs and dex entries take their own reference to
-- the stored image, so deleting a conversion never removes a file someone else still uses.

CREATE TABLE image_conversions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    original_image_id uuid REFERENCES stored_images (id) ON DELETE RESTRICT,
    converted_image_id uuid REFERENCES stored_images (id) ON DELETE RESTRICT,
    thumbnail_image_id uuid REFERENCES stored_images (id) ON DELETE RESTRICT,
    original_format varchar(10) NOT NULL DEFAULT '',
    -- [width, height]
    original_size jsonb,
    converted_size jsonb,
    transformations jsonb NOT NULL DEFAULT '{}',
    -- sha-256 hex of the converted file
    checksum varchar(64) NOT NULL DEFAULT '',
    -- EXIF capture date / GPS of the upload: visible to the owner only, never copied elsewhere
    capture_metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL DEFAULT now() + interval '30 minutes',
    used_in_job boolean NOT NULL DEFAULT false
);

CREATE INDEX image_conversions_user_id_created_at_idx ON image_conversions (user_id, created_at);
CREATE INDEX image_conversions_expires_at_idx ON image_conversions (expires_at);
CREATE INDEX image_conversions_checksum_idx ON image_conversions (checksum);
-- Foreign-key lookups (RESTRICT checks when a stored image is deleted).
CREATE INDEX image_conversions_original_image_id_idx ON image_conversions (original_image_id);
CREATE INDEX image_conversions_converted_image_id_idx ON image_conversions (converted_image_id);
CREATE INDEX image_conversions_thumbnail_image_id_idx ON image_conversions (thumbnail_image_id);
