-- The operators' console: an audit trail of every admin action (web and CLI) and the console's
-- own cookie sessions (not the API's JWTs, docs/decisions.md#d26).

CREATE TABLE admin_audit_log (
    id bigserial PRIMARY KEY,
    -- NULL when the command line acted (no signed-in staff member); actor_name says who.
    actor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    actor_name varchar(150) NOT NULL,
    action varchar(50) NOT NULL,
    object_type varchar(30) NOT NULL,
    -- Text, not uuid: objects are kept in the log after they are deleted, and a period (retry
    -- of all failed jobs) is an object too.
    object_id varchar(100) NOT NULL,
    before jsonb,
    after jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX admin_audit_log_object_idx ON admin_audit_log (object_type, object_id, created_at DESC);
CREATE INDEX admin_audit_log_created_at_idx ON admin_audit_log (created_at DESC);

-- Only the SHA-256 of the cookie value is stored: a database dump does not hand out sessions.
CREATE TABLE admin_sessions (
    token_hash varchar(64) PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token varchar(64) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX admin_sessions_user_idx ON admin_sessions (user_id);
