DROP TABLE animals;
-- The sequence is OWNED BY animals.creation_index and normally goes with the table.
DROP SEQUENCE IF EXISTS animals_creation_index_seq;
