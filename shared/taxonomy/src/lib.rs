//! Taxonomy: the Catalogue of Life (ColDP) importer and name matching.

pub mod animals;
pub mod cache;
pub mod coldp;
pub mod copy;
pub mod import;
pub mod matching;
pub mod names;
pub mod rows;
pub mod sample;
pub mod stage;
pub mod swap;
pub mod tsv;
