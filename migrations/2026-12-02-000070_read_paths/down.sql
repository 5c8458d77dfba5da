DROP FUNCTION biologidex_sync_watermark();
DROP INDEX dex_entries_owner_id_catch_date_desc_id_idx;
DROP INDEX animals_species_trgm_idx;
DROP INDEX animals_genus_trgm_idx;
