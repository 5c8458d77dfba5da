-- Every change that can refuse a token announces the user's id on `biologidex_auth` at commit,
-- whoever makes it (api, console, CLI, importer, psql), so each api process can drop what it
-- cached about that user (docs/decisions.md#d30). Duplicates within a transaction are folded
-- by PostgreSQL into one notification.
CREATE FUNCTION biologidex_notify_auth() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('biologidex_auth', OLD.id::text);
    ELSE
        PERFORM pg_notify('biologidex_auth', OLD.user_id::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER users_auth_changed
    AFTER UPDATE OF username, password_hash, is_active, is_staff, is_superuser, tokens_valid_after
    ON users FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash
          OR OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.is_staff IS DISTINCT FROM NEW.is_staff
          OR OLD.is_superuser IS DISTINCT FROM NEW.is_superuser
          OR OLD.tokens_valid_after IS DISTINCT FROM NEW.tokens_valid_after)
    EXECUTE FUNCTION biologidex_notify_auth();

CREATE TRIGGER users_auth_deleted
    AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION biologidex_notify_auth();

CREATE TRIGGER refresh_tokens_revoked
    AFTER UPDATE OF revoked_at ON refresh_tokens FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at)
    EXECUTE FUNCTION biologidex_notify_auth();
