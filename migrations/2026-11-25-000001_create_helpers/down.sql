DROP FUNCTION manage_updated_at(regclass);
DROP FUNCTION set_updated_at();
DROP EXTENSION IF EXISTS pg_trgm;
