-- Bookkeeping of `biologidex-api import-django` (bringing over the old Django server's data).
-- Imported rows keep their old ids, so these tables only record runs, where each run stopped,
-- which old files became which stored images, and the rows that could not be imported.

CREATE TABLE django_import_runs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    -- running (or killed: a later run resumes it), finished, failed
    status varchar(10) NOT NULL DEFAULT 'running',
    -- the last old id each phase committed, {"users": "<uuid>", ...}; "done" once a phase ended
    cursors jsonb NOT NULL DEFAULT '{}',
    -- per kind: found, imported, updated, unchanged, skipped, failed
    report jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT django_import_runs_status_check CHECK (status IN ('running', 'finished', 'failed'))
);

-- One row per old media path the importer has read. stored_image_id is NULL for avatars (they
-- are written under avatars/ and referenced by users.avatar) and for files that could not be
-- used (error says why). CASCADE: when cleanup removes an unreferenced image, the next run
-- copies the file again instead of pointing at a deleted row.
CREATE TABLE django_import_media (
    old_path text PRIMARY KEY,
    stored_image_id uuid REFERENCES stored_images (id) ON DELETE CASCADE,
    storage_key text,
    checksum varchar(64),
    error text,
    imported_at timestamptz NOT NULL DEFAULT now()
);

-- Old rows kept aside (a username the new rules refuse, a dangling foreign key, ...), with the
-- reason and the old row itself. Rewritten for a row each time a run meets it again.
CREATE TABLE django_import_rejects (
    kind varchar(20) NOT NULL,
    old_id text NOT NULL,
    reason text NOT NULL,
    old_row jsonb NOT NULL,
    run_id uuid NOT NULL REFERENCES django_import_runs (id) ON DELETE CASCADE,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, old_id)
);

-- Ids of every row an import wrote, per kind: a later run deletes the ones the old database no
-- longer has (deleted there since), and never touches rows created on this server.
CREATE TABLE django_import_ids (
    kind varchar(20) NOT NULL,
    id uuid NOT NULL,
    PRIMARY KEY (kind, id)
);

-- The old password hash last imported for each user: a hash upgraded to argon2id at a login
-- here is kept by later runs while the old one stays the same (the same password).
CREATE TABLE django_import_passwords (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    old_hash text NOT NULL
);
