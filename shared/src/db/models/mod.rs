//! Row types and queries, one file per domain. Functions take a connection, not the pool.

pub mod accounts;
pub mod friendships;
pub mod taxa;
pub mod taxonomy;
pub mod tokens;
