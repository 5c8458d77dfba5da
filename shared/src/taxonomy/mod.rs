//! Taxonomy: the Catalogue of Life (ColDP) importer and name matching.

pub mod cache;
pub mod coldp;
pub mod copy;
pub mod import;
pub mod rows;
pub mod stage;
pub mod swap;
pub mod tsv;
