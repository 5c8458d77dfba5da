-- Animals: the shared species catalogue. creation_index is the public "Pokedex number"; it comes
-- from a sequence (never max()+1), so concurrent creates cannot collide.

CREATE SEQUENCE animals_creation_index_seq AS integer START WITH 1 MINVALUE 1;

CREATE TABLE animals (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    scientific_name varchar(200) NOT NULL,
    common_name varchar(200) NOT NULL,
    kingdom varchar(100) NOT NULL DEFAULT 'Animalia',
    phylum varchar(100) NOT NULL DEFAULT '',
    class_name varchar(100) NOT NULL DEFAULT '',
    order_name varchar(100) NOT NULL DEFAULT '',
    family varchar(100) NOT NULL DEFAULT '',
    subfamily varchar(100) NOT NULL DEFAULT '',
    genus varchar(100) NOT NULL DEFAULT '',
    species varchar(100) NOT NULL DEFAULT '',
    subspecies varchar(100) NOT NULL DEFAULT '',
    native_regions text[] NOT NULL DEFAULT '{}',
    establishment_means varchar(30) NOT NULL DEFAULT '',
    -- soft link to taxa.id (no foreign key: taxonomy may be re-imported independently)
    taxonomy_id uuid,
    taxonomy_source varchar(20) NOT NULL DEFAULT '',
    taxonomy_source_url varchar(200) NOT NULL DEFAULT '',
    taxonomy_confidence numeric(3, 2),
    last_verified_at timestamptz,
    verification_method varchar(30) NOT NULL DEFAULT 'cv',
    description text NOT NULL DEFAULT '',
    habitat text NOT NULL DEFAULT '',
    diet text NOT NULL DEFAULT '',
    conservation_status varchar(2) NOT NULL DEFAULT 'NE',
    interesting_facts jsonb NOT NULL DEFAULT '[]',
    creation_index integer NOT NULL DEFAULT nextval('animals_creation_index_seq'),
    created_by_id uuid REFERENCES users (id) ON DELETE SET NULL,
    verified boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT animals_scientific_name_key UNIQUE (scientific_name),
    CONSTRAINT animals_creation_index_key UNIQUE (creation_index),
    CONSTRAINT animals_creation_index_check CHECK (creation_index >= 0),
    CONSTRAINT animals_verification_method_check
        CHECK (verification_method IN ('manual', 'taxonomy', 'cv', 'user')),
    CONSTRAINT animals_conservation_status_check
        CHECK (conservation_status IN ('EX', 'EW', 'CR', 'EN', 'VU', 'NT', 'LC', 'DD', 'NE'))
);

ALTER SEQUENCE animals_creation_index_seq OWNED BY animals.creation_index;

-- Case-insensitive uniqueness of the scientific name (lookups use iexact semantics).
CREATE UNIQUE INDEX animals_scientific_name_lower_key ON animals (lower(scientific_name));

-- Single-column indexes of the old model. scientific_name and creation_index are covered by their
-- unique constraints; kingdom and family by the composite indexes below that start with them.
CREATE INDEX animals_common_name_idx ON animals (common_name);
CREATE INDEX animals_verified_idx ON animals (verified);
CREATE INDEX animals_created_at_idx ON animals (created_at);
CREATE INDEX animals_created_by_id_idx ON animals (created_by_id);
CREATE INDEX animals_phylum_idx ON animals (phylum);
CREATE INDEX animals_class_name_idx ON animals (class_name);
CREATE INDEX animals_order_name_idx ON animals (order_name);
CREATE INDEX animals_taxonomy_id_idx ON animals (taxonomy_id);

CREATE INDEX animals_genus_species_idx ON animals (genus, species);
CREATE INDEX animals_kingdom_phylum_class_name_idx ON animals (kingdom, phylum, class_name);
CREATE INDEX animals_family_genus_species_idx ON animals (family, genus, species);

-- Substring (icontains) search.
CREATE INDEX animals_scientific_name_trgm_idx ON animals USING gin (scientific_name gin_trgm_ops);
CREATE INDEX animals_common_name_trgm_idx ON animals USING gin (common_name gin_trgm_ops);

SELECT manage_updated_at('animals');
