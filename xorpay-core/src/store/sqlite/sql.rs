//! What every part of the SQLite store writes the same way: the database's clock in SQL
//! (leases are counted on it), times and durations as stored, and errors as a [`StoreError`].

use time::OffsetDateTime;

use crate::store::StoreError;

/// SQLite's clock in milliseconds, for claims' leases.
pub(super) const DB_NOW_MS: &str = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

/// A database error, as text.
pub(super) fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

/// A time as stored: Unix seconds.
pub(super) fn unix(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}
