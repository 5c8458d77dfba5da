-- The catalogue search ORs four ILIKE '%term%' conditions; with a trigram index on only two of
-- the columns PostgreSQL scanned every animal (36 ms at 30,000 animals). With all four a
-- selective term is a bitmap OR of four index scans (2 ms); ops/bench/RESULTS-scaling.md.
CREATE INDEX animals_genus_trgm_idx ON animals USING gin (genus gin_trgm_ops);
CREATE INDEX animals_species_trgm_idx ON animals USING gin (species gin_trgm_ops);
-- my_entries pages in Pokédex order (catch date, newest first, then id): read straight off the
-- index instead of sorting each owner's entries.
CREATE INDEX dex_entries_owner_id_catch_date_desc_id_idx ON dex_entries (owner_id, catch_date DESC, id);

-- The sync watermark (the next `last_sync`): the earliest start of a transaction still running,
-- or now. As a PL/pgSQL function its plan is kept per session and the call is a prepared
-- statement; sent as raw SQL it was planned anew on every sync (pg_stat_activity is a view of
-- several joins), which cost more than the sync itself.
CREATE FUNCTION biologidex_sync_watermark() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (
        SELECT LEAST(clock_timestamp(),
                     COALESCE(min(xact_start) FILTER (WHERE pid <> pg_backend_pid()), clock_timestamp()))
        FROM pg_stat_activity
        WHERE datname = current_database() AND xact_start IS NOT NULL AND state <> 'idle'
    );
END;
$$;
