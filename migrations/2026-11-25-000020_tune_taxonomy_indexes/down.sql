DROP INDEX taxon_common_names_name_lower_c_idx;
CREATE INDEX taxon_common_names_name_lower_idx ON taxon_common_names (lower(name));
DROP INDEX taxa_scientific_name_lower_c_idx;
CREATE INDEX taxa_scientific_name_lower_idx ON taxa (lower(scientific_name));
DROP INDEX taxa_scientific_name_c_idx;
CREATE INDEX taxa_scientific_name_status_idx ON taxa (scientific_name, status);

CREATE INDEX taxa_kingdom_phylum_class_name_idx ON taxa (kingdom, phylum, class_name);
CREATE INDEX taxa_rank_id_idx ON taxa (rank_id);
CREATE INDEX taxa_specific_epithet_idx ON taxa (specific_epithet);
CREATE INDEX taxa_genus_specific_epithet_status_idx ON taxa (genus, specific_epithet, status);
