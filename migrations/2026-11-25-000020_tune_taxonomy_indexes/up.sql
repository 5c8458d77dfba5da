-- Taxonomy indexes tuned for the Catalogue of Life importer, which rebuilds every index of the
-- taxonomy tables on each release (about 9.4 million name usages; issue 6).
--
-- 1. Indexes no query uses are dropped: each cost seconds per import. Matching looks names up
--    by lower(scientific_name), search by trigrams, and trees by parent_id.
DROP INDEX taxa_genus_specific_epithet_status_idx;
DROP INDEX taxa_specific_epithet_idx;
DROP INDEX taxa_rank_id_idx;
DROP INDEX taxa_kingdom_phylum_class_name_idx;

-- 2. The name indexes use byte order ("C"): the same equality lookups and a stable name order,
--    built several times faster than with the database's linguistic collation. Queries must
--    say COLLATE "C" to use them (see shared::db::models::taxa and taxonomy::matching).
DROP INDEX taxa_scientific_name_status_idx;
CREATE INDEX taxa_scientific_name_c_idx ON taxa (scientific_name COLLATE "C");
DROP INDEX taxa_scientific_name_lower_idx;
CREATE INDEX taxa_scientific_name_lower_c_idx ON taxa ((lower(scientific_name) COLLATE "C"));
DROP INDEX taxon_common_names_name_lower_idx;
CREATE INDEX taxon_common_names_name_lower_c_idx
    ON taxon_common_names ((lower(name) COLLATE "C"));
