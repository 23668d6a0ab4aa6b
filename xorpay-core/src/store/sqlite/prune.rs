//! Pruning in SQLite ([`OrderStore::prune`](crate::store::OrderStore::prune)): closed orders
//! turned into tombstones, their events deleted, in one write.

use std::sync::Arc;

use rusqlite::params;

use super::sql::database;
use super::writer::Writer;
use crate::store::{PRUNED, StoreError, count};

/// Prunes at most `limit` of `merchant`'s orders closed before `before` (Unix seconds).
pub(super) async fn prune(
    writer: &Writer,
    merchant: &Arc<str>,
    before: i64,
    limit: i64,
) -> Result<u64, StoreError> {
    let merchant = Arc::clone(merchant);
    writer
        .write(move |connection| {
            // One indexed read per closed state (the `expired` and `fulfilled` indexes), so
            // that a pass costs the orders it prunes, not the size of the book.
            let keys: Vec<String> = connection
                .prepare_cached(
                    "SELECT order_id FROM xorpay_orders AS o
                     WHERE merchant = ?1 AND state = 'paid' AND fulfilled_unix < ?2
                       AND updated_unix < ?2 AND NOT attention
                       AND NOT EXISTS (SELECT 1 FROM xorpay_events AS e
                                       WHERE e.merchant = o.merchant
                                         AND e.order_id = o.order_id AND e.done_unix IS NULL)
                     UNION ALL
                     SELECT order_id FROM xorpay_orders AS o
                     WHERE merchant = ?1 AND state = 'expired' AND expired_unix < ?2
                       AND updated_unix < ?2 AND NOT attention
                       AND NOT EXISTS (SELECT 1 FROM xorpay_events AS e
                                       WHERE e.merchant = o.merchant
                                         AND e.order_id = o.order_id AND e.done_unix IS NULL)
                     LIMIT ?3",
                )
                .and_then(|mut statement| {
                    statement
                        .query_map(params![&*merchant, before, limit], |row| row.get(0))?
                        .collect()
                })
                .map_err(database)?;
            let mut tombstone = connection
                .prepare_cached(&format!(
                    "UPDATE xorpay_orders SET state = '{PRUNED}', order_json = '', data_json = '',
                         claim_token = NULL, claimed_until_ms = NULL, check_after_unix = NULL
                     WHERE merchant = ?1 AND order_id = ?2"
                ))
                .map_err(database)?;
            let mut forget = connection
                .prepare_cached("DELETE FROM xorpay_events WHERE merchant = ?1 AND order_id = ?2")
                .map_err(database)?;
            for key in &keys {
                tombstone
                    .execute(params![&*merchant, key])
                    .map_err(database)?;
                forget.execute(params![&*merchant, key]).map_err(database)?;
            }
            Ok(count(i64::try_from(keys.len()).unwrap_or(i64::MAX)))
        })
        .await
}
