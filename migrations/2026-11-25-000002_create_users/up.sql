-- Accounts: users, their profile counters, and refresh-token tracking.

CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username varchar(150) NOT NULL,
    email varchar(254) NOT NULL,
    -- argon2id PHC string, or a Django "pbkdf2_sha256$..." hash imported from the old server
    -- (upgraded to argon2id on the next successful login).
    password_hash text NOT NULL,
    is_active boolean NOT NULL DEFAULT true,
    is_staff boolean NOT NULL DEFAULT false,
    is_superuser boolean NOT NULL DEFAULT false,
    first_name varchar(150) NOT NULL DEFAULT '',
    last_name varchar(150) NOT NULL DEFAULT '',
    friend_code varchar(8) NOT NULL,
    bio text NOT NULL DEFAULT '',
    -- storage key of the avatar image (relative path in the media store), NULL = none
    avatar varchar(255),
    badges jsonb NOT NULL DEFAULT '[]',
    last_login timestamptz,
    -- Access tokens issued before this instant are refused (set on a password change).
    tokens_valid_after timestamptz NOT NULL DEFAULT now(),
    date_joined timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- case-sensitive, as on the old server
    CONSTRAINT users_username_key UNIQUE (username)
);

-- Emails are unique case-insensitively; friend codes are looked up case-insensitively.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE UNIQUE INDEX users_friend_code_key ON users (upper(friend_code));
CREATE INDEX users_created_at_idx ON users (created_at);

SELECT manage_updated_at('users');

CREATE TABLE user_profiles (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    total_catches integer NOT NULL DEFAULT 0,
    unique_species integer NOT NULL DEFAULT 0,
    preferred_card_style jsonb NOT NULL DEFAULT '{}',
    join_date date NOT NULL DEFAULT CURRENT_DATE,
    last_catch_date timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_profiles_total_catches_check CHECK (total_catches >= 0),
    CONSTRAINT user_profiles_unique_species_check CHECK (unique_species >= 0)
);

SELECT manage_updated_at('user_profiles');

-- One row per issued refresh token. All tokens rotated from one login share family_id; logout and
-- password change revoke the whole family (revoked_at set on every row of it).
CREATE TABLE refresh_tokens (
    jti uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);
