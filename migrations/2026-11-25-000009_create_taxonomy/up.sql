-- Taxonomy reference data (Catalogue of Life and other sources).

CREATE TABLE taxonomy_sources (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name varchar(100) NOT NULL,
    short_code varchar(20) NOT NULL,
    full_name varchar(200) NOT NULL DEFAULT '',
    url text NOT NULL DEFAULT '',
    api_endpoint text,
    update_frequency varchar(20) NOT NULL DEFAULT 'irregular',
    license text NOT NULL DEFAULT '',
    citation_format text NOT NULL DEFAULT '',
    is_active boolean NOT NULL DEFAULT true,
    -- lower = preferred
    priority integer NOT NULL DEFAULT 100,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT taxonomy_sources_name_key UNIQUE (name),
    CONSTRAINT taxonomy_sources_short_code_key UNIQUE (short_code),
    CONSTRAINT taxonomy_sources_update_frequency_check
        CHECK (update_frequency IN ('daily', 'weekly', 'monthly', 'quarterly', 'annual', 'irregular'))
);

SELECT manage_updated_at('taxonomy_sources');

CREATE TABLE taxonomy_import_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_id uuid NOT NULL REFERENCES taxonomy_sources (id) ON DELETE CASCADE,
    version varchar(50) NOT NULL DEFAULT '',
    status varchar(20) NOT NULL DEFAULT 'pending',
    started_at timestamptz,
    completed_at timestamptz,
    file_path varchar(500) NOT NULL DEFAULT '',
    file_size_mb numeric(10, 2),
    records_total bigint NOT NULL DEFAULT 0,
    records_imported bigint NOT NULL DEFAULT 0,
    records_failed bigint NOT NULL DEFAULT 0,
    error_log jsonb NOT NULL DEFAULT '[]',
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT taxonomy_import_jobs_status_check
        CHECK (status IN ('pending', 'downloading', 'processing', 'validating', 'importing',
                          'completed', 'failed', 'cancelled'))
);

CREATE INDEX taxonomy_import_jobs_source_id_created_at_idx
    ON taxonomy_import_jobs (source_id, created_at);
CREATE INDEX taxonomy_import_jobs_status_idx ON taxonomy_import_jobs (status);

SELECT manage_updated_at('taxonomy_import_jobs');

CREATE TABLE taxonomic_ranks (
    id smallint PRIMARY KEY,
    name varchar(50) NOT NULL,
    level integer NOT NULL,
    plural varchar(50) NOT NULL DEFAULT '',
    CONSTRAINT taxonomic_ranks_name_key UNIQUE (name),
    CONSTRAINT taxonomic_ranks_level_key UNIQUE (level)
);

-- The old server's ranks fixture: its names, levels and plurals.
INSERT INTO taxonomic_ranks (id, name, level, plural) VALUES
    (1, 'kingdom', 10, 'kingdoms'),
    (2, 'subkingdom', 15, 'subkingdoms'),
    (3, 'phylum', 20, 'phyla'),
    (4, 'subphylum', 25, 'subphyla'),
    (5, 'class', 30, 'classes'),
    (6, 'subclass', 35, 'subclasses'),
    (7, 'order', 40, 'orders'),
    (8, 'suborder', 45, 'suborders'),
    (9, 'superfamily', 48, 'superfamilies'),
    (10, 'family', 50, 'families'),
    (11, 'subfamily', 55, 'subfamilies'),
    (12, 'tribe', 58, 'tribes'),
    (13, 'subtribe', 59, 'subtribes'),
    (14, 'genus', 60, 'genera'),
    (15, 'subgenus', 65, 'subgenera'),
    (16, 'section', 68, 'sections'),
    (17, 'species', 70, 'species'),
    (18, 'subspecies', 75, 'subspecies'),
    (19, 'variety', 78, 'varieties'),
    (20, 'form', 80, 'forms');

CREATE TABLE taxa (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    source_id uuid NOT NULL REFERENCES taxonomy_sources (id) ON DELETE RESTRICT,
    source_taxon_id varchar(100) NOT NULL,
    import_job_id uuid REFERENCES taxonomy_import_jobs (id) ON DELETE SET NULL,
    scientific_name varchar(300) NOT NULL,
    authorship text NOT NULL DEFAULT '',
    rank_id smallint REFERENCES taxonomic_ranks (id) ON DELETE RESTRICT,
    status varchar(20) NOT NULL DEFAULT 'accepted',
    -- main ranks
    kingdom varchar(100) NOT NULL DEFAULT '',
    phylum varchar(100) NOT NULL DEFAULT '',
    class_name varchar(100) NOT NULL DEFAULT '',
    order_name varchar(100) NOT NULL DEFAULT '',
    family varchar(100) NOT NULL DEFAULT '',
    genus varchar(100) NOT NULL DEFAULT '',
    species varchar(100) NOT NULL DEFAULT '',
    -- intermediate ranks
    subkingdom varchar(100) NOT NULL DEFAULT '',
    subphylum varchar(100) NOT NULL DEFAULT '',
    subclass varchar(100) NOT NULL DEFAULT '',
    suborder varchar(100) NOT NULL DEFAULT '',
    superfamily varchar(100) NOT NULL DEFAULT '',
    subfamily varchar(100) NOT NULL DEFAULT '',
    tribe varchar(100) NOT NULL DEFAULT '',
    subtribe varchar(100) NOT NULL DEFAULT '',
    subgenus varchar(100) NOT NULL DEFAULT '',
    section varchar(100) NOT NULL DEFAULT '',
    subspecies varchar(100) NOT NULL DEFAULT '',
    variety varchar(100) NOT NULL DEFAULT '',
    form varchar(100) NOT NULL DEFAULT '',
    -- name parts
    generic_name varchar(100) NOT NULL DEFAULT '',
    specific_epithet varchar(100) NOT NULL DEFAULT '',
    infraspecific_epithet varchar(100) NOT NULL DEFAULT '',
    -- metadata
    extinct boolean,
    -- subset of {marine, terrestrial, freshwater}
    environment text[] NOT NULL DEFAULT '{}',
    nomenclatural_code varchar(10) NOT NULL DEFAULT '',
    source_url text NOT NULL DEFAULT '',
    source_reference text NOT NULL DEFAULT '',
    completeness_score numeric(3, 2) NOT NULL DEFAULT 0,
    confidence_score numeric(3, 2) NOT NULL DEFAULT 1,
    -- links
    parent_id uuid REFERENCES taxa (id) ON DELETE SET NULL,
    accepted_name_id uuid REFERENCES taxa (id) ON DELETE SET NULL,
    source_modified_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT taxa_source_taxon_key UNIQUE (source_id, source_taxon_id),
    CONSTRAINT taxa_status_check
        CHECK (status IN ('accepted', 'synonym', 'provisional', 'ambiguous', 'misapplied', 'doubtful')),
    CONSTRAINT taxa_nomenclatural_code_check
        CHECK (nomenclatural_code IN ('', 'iczn', 'icn', 'icnp', 'ictv', 'icnafp'))
);

CREATE INDEX taxa_scientific_name_status_idx ON taxa (scientific_name, status);
CREATE INDEX taxa_scientific_name_lower_idx ON taxa (lower(scientific_name));
CREATE INDEX taxa_genus_specific_epithet_status_idx ON taxa (genus, specific_epithet, status);
CREATE INDEX taxa_specific_epithet_idx ON taxa (specific_epithet);
CREATE INDEX taxa_parent_id_idx ON taxa (parent_id);
CREATE INDEX taxa_accepted_name_id_idx ON taxa (accepted_name_id);
CREATE INDEX taxa_rank_id_idx ON taxa (rank_id);
CREATE INDEX taxa_kingdom_phylum_class_name_idx ON taxa (kingdom, phylum, class_name);
CREATE INDEX taxa_scientific_name_trgm_idx ON taxa USING gin (scientific_name gin_trgm_ops);

SELECT manage_updated_at('taxa');

CREATE TABLE taxon_common_names (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    taxon_id uuid NOT NULL REFERENCES taxa (id) ON DELETE CASCADE,
    name varchar(200) NOT NULL,
    language varchar(10) NOT NULL DEFAULT '',
    country varchar(2) NOT NULL DEFAULT '',
    is_preferred boolean NOT NULL DEFAULT false,
    source_id uuid REFERENCES taxonomy_sources (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT taxon_common_names_taxon_name_language_country_key
        UNIQUE (taxon_id, name, language, country)
);

CREATE INDEX taxon_common_names_name_lower_idx ON taxon_common_names (lower(name));
CREATE INDEX taxon_common_names_language_idx ON taxon_common_names (language);
CREATE INDEX taxon_common_names_name_trgm_idx ON taxon_common_names USING gin (name gin_trgm_ops);

CREATE TABLE taxon_distributions (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    taxon_id uuid NOT NULL REFERENCES taxa (id) ON DELETE CASCADE,
    area_code varchar(20) NOT NULL DEFAULT '',
    gazetteer varchar(20) NOT NULL DEFAULT '',
    area_name text NOT NULL DEFAULT '',
    establishment_means varchar(20) NOT NULL DEFAULT '',
    occurrence_status varchar(20) NOT NULL DEFAULT 'present',
    threat_status varchar(20) NOT NULL DEFAULT '',
    source_id uuid REFERENCES taxonomy_sources (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT taxon_distributions_establishment_means_check
        CHECK (establishment_means IN ('', 'native', 'introduced', 'naturalised', 'invasive',
                                       'managed', 'uncertain')),
    CONSTRAINT taxon_distributions_occurrence_status_check
        CHECK (occurrence_status IN ('present', 'absent', 'extinct', 'doubtful'))
);

CREATE INDEX taxon_distributions_taxon_id_idx ON taxon_distributions (taxon_id);

-- Name relations between taxa (ColDP NameRelation.tsv). relation_type holds the source's
-- vocabulary as is (spelling correction, basionym, based on, replacement name, conserved,
-- later homonym, superfluous, homotypic synonym, heterotypic synonym, proparte synonym,
-- misapplied, type, ...), so it is not CHECK-constrained.
CREATE TABLE taxon_name_relations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name_id uuid NOT NULL REFERENCES taxa (id) ON DELETE CASCADE,
    related_name_id uuid NOT NULL REFERENCES taxa (id) ON DELETE CASCADE,
    relation_type varchar(50) NOT NULL,
    col_name_id varchar(100) NOT NULL DEFAULT '',
    col_related_name_id varchar(100) NOT NULL DEFAULT '',
    col_source_id varchar(100) NOT NULL DEFAULT '',
    reference_id varchar(100) NOT NULL DEFAULT '',
    page text NOT NULL DEFAULT '',
    remarks text NOT NULL DEFAULT '',
    source_id uuid REFERENCES taxonomy_sources (id) ON DELETE RESTRICT,
    import_job_id uuid REFERENCES taxonomy_import_jobs (id) ON DELETE SET NULL,
    source_modified_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT taxon_name_relations_name_related_type_key
        UNIQUE (name_id, related_name_id, relation_type)
);

CREATE INDEX taxon_name_relations_related_name_id_idx ON taxon_name_relations (related_name_id);

SELECT manage_updated_at('taxon_name_relations');
