//! Row types and queries, one file per domain. Functions take a connection, not the pool.

pub mod accounts;
pub mod admin;
pub mod animals;
pub mod conversions;
pub mod dex;
pub mod friendships;
pub mod graph;
pub mod images;
pub mod taxa;
pub mod taxonomy;
pub mod tokens;
pub mod vision;
