DROP TABLE taxon_name_relations;
DROP TABLE taxon_distributions;
DROP TABLE taxon_common_names;
DROP TABLE taxa;
DROP TABLE taxonomic_ranks;
DROP TABLE taxonomy_import_jobs;
DROP TABLE taxonomy_sources;
