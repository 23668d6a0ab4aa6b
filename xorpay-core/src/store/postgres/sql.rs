//! What every part of the PostgreSQL store writes the same way: the database's clock in SQL
//! (leases are counted on it), times and durations as stored, and errors as a [`StoreError`].

use std::time::Duration;

use time::OffsetDateTime;

use crate::store::StoreError;

/// A database error, as text without the connection's parameters (which hold the password).
/// The error with its causes (the pool's and the driver's messages alone often say only
/// "error performing TLS handshake", not why).
pub(super) fn database(error: impl std::error::Error) -> StoreError {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    StoreError::Database(message)
}

/// A time as stored: Unix seconds.
pub(super) fn unix(time: OffsetDateTime) -> i64 {
    time.unix_timestamp()
}

/// A duration as stored: milliseconds, at most a century (`store::lease_millis`).
pub(super) fn millis(duration: Duration) -> i64 {
    crate::store::lease_millis(duration)
}
