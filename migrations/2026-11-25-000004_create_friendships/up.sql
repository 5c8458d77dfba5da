-- Friendships: one row per unordered pair of users; from_user_id is who sent the request.

CREATE TABLE friendships (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    from_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status varchar(10) NOT NULL DEFAULT 'pending',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT friendships_status_check
        CHECK (status IN ('pending', 'accepted', 'rejected', 'blocked')),
    CONSTRAINT friendships_not_self_check CHECK (from_user_id <> to_user_id)
);

-- One row per pair, whichever direction it was created in.
CREATE UNIQUE INDEX friendships_pair_key
    ON friendships (LEAST(from_user_id, to_user_id), GREATEST(from_user_id, to_user_id));
CREATE INDEX friendships_from_user_id_status_idx ON friendships (from_user_id, status);
CREATE INDEX friendships_to_user_id_status_idx ON friendships (to_user_id, status);

SELECT manage_updated_at('friendships');
