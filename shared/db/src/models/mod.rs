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

/// Splits the rows of a page selected with its total (an uncorrelated `count(*)` subquery in
/// each row, so page and total cost one round trip) into the rows and the total; `None` when
/// the page is empty.
pub(crate) fn with_total<T>(rows: Vec<(T, Option<i64>)>) -> (Vec<T>, Option<i64>) {
    let total = rows.first().map(|(_, t)| t.unwrap_or(0));
    (rows.into_iter().map(|(r, _)| r).collect(), total)
}
