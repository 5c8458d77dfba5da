-- Shared helpers used by every later migration.
--
-- pg_trgm is a "trusted" extension (PostgreSQL 13+), so the non-superuser role that owns the
-- database may create it. gen_random_uuid() is built into PostgreSQL 13+; no other extension is used.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- BEFORE UPDATE trigger body: bumps updated_at whenever a row really changes and the statement did
-- not set updated_at itself (the same rule as diesel's diesel_set_updated_at()). A no-op UPDATE
-- (NEW identical to OLD) leaves updated_at alone, so it does not make incremental sync resend rows.
CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

-- Usage: SELECT manage_updated_at('table_name');
-- Installs the set_updated_at trigger on a table that has an updated_at column.
CREATE FUNCTION manage_updated_at(_tbl regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION set_updated_at()',
        _tbl
    );
END;
$$;
