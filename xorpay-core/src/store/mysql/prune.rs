//! Pruning in MySQL and MariaDB ([`OrderStore::prune`](crate::store::OrderStore::prune)):
//! closed orders turned into tombstones, their events deleted, in one transaction.

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Pool, Value};

use super::sql::{database, placeholders, read_committed};
use crate::store::{PRUNED, StoreError, count};

/// The closed orders of one state, read as they are and locked (`FOR UPDATE`: the latest
/// row, whatever the transaction's snapshot; a row another transaction holds is skipped).
/// A change that commits before the lock has moved the row's `updated_unix`, and one after
/// it finds the tombstone. Each reads its own index (`expired`, `fulfilment`).
const CLOSED: [&str; 2] = [
    "SELECT order_id FROM xorpay_orders AS o
     WHERE merchant = ? AND state = 'paid' AND fulfilled_unix IS NOT NULL
       AND fulfilled_unix < ? AND updated_unix < ? AND attention = FALSE
       AND NOT EXISTS (SELECT 1 FROM xorpay_events AS e
                       WHERE e.merchant = o.merchant AND e.order_id = o.order_id
                         AND e.done_unix IS NULL)
     LIMIT ? FOR UPDATE SKIP LOCKED",
    "SELECT order_id FROM xorpay_orders AS o
     WHERE merchant = ? AND state = 'expired' AND expired_unix < ?
       AND updated_unix < ? AND attention = FALSE
       AND NOT EXISTS (SELECT 1 FROM xorpay_events AS e
                       WHERE e.merchant = o.merchant AND e.order_id = o.order_id
                         AND e.done_unix IS NULL)
     LIMIT ? FOR UPDATE SKIP LOCKED",
];

/// Prunes at most `limit` of `merchant`'s orders closed before `before` (Unix seconds).
pub(super) async fn prune(
    pool: &Pool,
    merchant: Value,
    before: i64,
    limit: usize,
) -> Result<u64, StoreError> {
    let mut conn = pool.get_conn().await.map_err(database)?;
    let mut transaction = read_committed(&mut conn).await?;
    let mut keys: Vec<Vec<u8>> = Vec::new();
    for sql in CLOSED {
        let left = limit.saturating_sub(keys.len());
        if left == 0 {
            break;
        }
        let picked: Vec<Vec<u8>> = transaction
            .exec(
                sql,
                Params::Positional(vec![
                    merchant.clone(),
                    Value::Int(before),
                    Value::Int(before),
                    Value::from(left),
                ]),
            )
            .await
            .map_err(database)?;
        keys.extend(picked);
    }
    if !keys.is_empty() {
        // Whether a locking read locks (and skips) the rows of its subquery is the server's
        // choice: the orders' events are read again, plainly, as last committed.
        let mut parameters = vec![merchant.clone()];
        parameters.extend(keys.iter().cloned().map(Value::Bytes));
        let owed: Vec<Vec<u8>> = transaction
            .exec(
                format!(
                    "SELECT DISTINCT order_id FROM xorpay_events
                     WHERE merchant = ? AND order_id IN ({}) AND done_unix IS NULL",
                    placeholders(keys.len())
                ),
                Params::Positional(parameters),
            )
            .await
            .map_err(database)?;
        keys.retain(|key| !owed.contains(key));
    }
    if !keys.is_empty() {
        let mut parameters = vec![merchant.clone()];
        parameters.extend(keys.iter().cloned().map(Value::Bytes));
        // `writes` is not touched: a tombstone is a changed row whatever the pool counts.
        transaction
            .exec_drop(
                format!(
                    "UPDATE xorpay_orders SET state = '{PRUNED}', order_json = '', data_json = '',
                         claim_token = NULL, claimed_until_ms = NULL, check_after_unix = NULL
                     WHERE merchant = ? AND order_id IN ({})",
                    placeholders(keys.len())
                ),
                Params::Positional(parameters.clone()),
            )
            .await
            .map_err(database)?;
        transaction
            .exec_drop(
                format!(
                    "DELETE FROM xorpay_events WHERE merchant = ? AND order_id IN ({})",
                    placeholders(keys.len())
                ),
                Params::Positional(parameters),
            )
            .await
            .map_err(database)?;
    }
    transaction.commit().await.map_err(database)?;
    Ok(count(i64::try_from(keys.len()).unwrap_or(i64::MAX)))
}
