-- Dex entries (a user's catches) and the removal log that feeds the sync "deleted" list.

CREATE TABLE dex_entries (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    animal_id uuid NOT NULL REFERENCES animals (id) ON DELETE CASCADE,
    source_vision_job_id uuid REFERENCES analysis_jobs (id) ON DELETE SET NULL,
    -- the entry's own reference to its image
    image_id uuid REFERENCES stored_images (id) ON DELETE RESTRICT,
    -- random 128-bit capability token (hex) in the image URL; rotated on a visibility narrowing
    -- or an unfriend, which revokes every URL handed out before
    image_token varchar(32),
    -- sha-256 hex of the image, computed once when the image is stored
    image_checksum varchar(64),
    -- degrees; rendered with six decimals as the old numeric(9,6) columns were
    location_lat double precision,
    location_lon double precision,
    location_name varchar(200) NOT NULL DEFAULT '',
    notes text NOT NULL DEFAULT '',
    customizations jsonb NOT NULL DEFAULT '{}',
    catch_date timestamptz NOT NULL DEFAULT now(),
    visibility varchar(10) NOT NULL DEFAULT 'friends',
    is_favorite boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT dex_entries_owner_animal_catch_date_key UNIQUE (owner_id, animal_id, catch_date),
    CONSTRAINT dex_entries_visibility_check CHECK (visibility IN ('private', 'friends', 'public'))
);

CREATE UNIQUE INDEX dex_entries_image_token_key ON dex_entries (image_token);
-- (owner_id, animal_id) lookups use the unique constraint's index.
CREATE INDEX dex_entries_owner_id_catch_date_idx ON dex_entries (owner_id, catch_date);
CREATE INDEX dex_entries_owner_id_updated_at_idx ON dex_entries (owner_id, updated_at);
CREATE INDEX dex_entries_visibility_updated_at_idx ON dex_entries (visibility, updated_at);
CREATE INDEX dex_entries_animal_id_visibility_idx ON dex_entries (animal_id, visibility);
CREATE INDEX dex_entries_source_vision_job_id_idx ON dex_entries (source_vision_job_id);
CREATE INDEX dex_entries_image_id_idx ON dex_entries (image_id);

SELECT manage_updated_at('dex_entries');

-- Entries that left someone's visible set (deleted, made less visible, hidden by an unfriend or a
-- block). entry_id has no foreign key: the entry may no longer exist.
CREATE TABLE dex_entry_removals (
    id bigserial PRIMARY KEY,
    entry_id uuid NOT NULL,
    owner_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason varchar(20) NOT NULL,
    -- set for an unfriend/block: the one user who lost sight of the entry; NULL = everyone
    -- who no longer sees it
    viewer_id uuid REFERENCES users (id) ON DELETE CASCADE,
    -- clock_timestamp(), not now(): the time of the removal itself, not of its transaction's start
    removed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT dex_entry_removals_reason_check CHECK (reason IN ('deleted', 'visibility', 'unfriend'))
);

CREATE INDEX dex_entry_removals_owner_id_removed_at_idx ON dex_entry_removals (owner_id, removed_at);
