//! What every part of the MySQL store writes the same way: the database's clock in SQL
//! (leases are counted on it), times and durations as stored, errors as a [`StoreError`],
//! and the transactions of claims and pruning.

use std::time::Duration;

use mysql_async::{Conn, IsolationLevel, Transaction, TxOpts, Value};
use time::OffsetDateTime;

use crate::store::StoreError;

/// The database's clock in milliseconds since 1970, for claims' leases (not limited to
/// 2038, as `UNIX_TIMESTAMP` is on MariaDB before 11.5).
pub(super) const DB_NOW_MS: &str =
    "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";

/// A database error, as text. The driver's messages name neither the URL nor the password.
pub(super) fn database(error: impl std::fmt::Display) -> StoreError {
    StoreError::Database(error.to_string())
}

/// A time as stored: Unix seconds.
pub(super) fn unix(time: OffsetDateTime) -> Value {
    Value::Int(time.unix_timestamp())
}

/// A duration as stored: milliseconds, at most a century (`store::lease_millis`).
pub(super) fn millis(duration: Duration) -> Value {
    Value::Int(crate::store::lease_millis(duration))
}

/// `?, ?, …`: `count` placeholders.
pub(super) fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

/// A transaction in READ COMMITTED, for claims and pruning: its locking reads lock the rows
/// they return and no gaps, so a claim's own UPDATE (which moves its row within the index it
/// read) never deadlocks with another claimer's range, nor waits for a prune to end.
pub(super) async fn read_committed(conn: &mut Conn) -> Result<Transaction<'_>, StoreError> {
    let mut options = TxOpts::default();
    options.with_isolation_level(IsolationLevel::ReadCommitted);
    conn.start_transaction(options).await.map_err(database)
}
