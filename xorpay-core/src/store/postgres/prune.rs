//! Pruning in PostgreSQL ([`OrderStore::prune`](crate::store::OrderStore::prune)): closed
//! orders turned into tombstones, their events deleted, in one statement.

use deadpool_postgres::Pool;

use super::sql::database;
use crate::store::{StoreError, count};

/// Which orders are closed before `$2`, and the tombstones they become. The picked rows are
/// read from the statement's snapshot; the `UPDATE` checks the conditions again against each
/// row as it is when locked (a change that commits meanwhile moves its `updated_unix`, and
/// a row another instance holds is skipped), and the events of the rows it changed go with
/// them. One indexed read per closed state, so a pass costs the orders it prunes.
const PRUNE: &str = "WITH picked AS (
        (SELECT order_id FROM xorpay_orders AS o
         WHERE merchant = $1 AND state = 'paid' AND fulfilled_unix IS NOT NULL
           AND fulfilled_unix < $2 AND updated_unix < $2 AND NOT attention
           AND NOT EXISTS (SELECT 1 FROM xorpay_events AS e
                           WHERE e.merchant = o.merchant AND e.order_id = o.order_id
                             AND e.done_unix IS NULL)
         UNION ALL
         SELECT order_id FROM xorpay_orders AS o
         WHERE merchant = $1 AND state = 'expired' AND expired_unix < $2
           AND updated_unix < $2 AND NOT attention
           AND NOT EXISTS (SELECT 1 FROM xorpay_events AS e
                           WHERE e.merchant = o.merchant AND e.order_id = o.order_id
                             AND e.done_unix IS NULL))
        LIMIT $3
    ), locked AS (
        SELECT order_id FROM xorpay_orders
        WHERE merchant = $1 AND order_id IN (SELECT order_id FROM picked)
        FOR UPDATE SKIP LOCKED
    ), pruned AS (
        UPDATE xorpay_orders SET state = 'pruned', order_json = '', data_json = '',
            claim_token = NULL, claimed_until = NULL, check_after_unix = NULL
        WHERE merchant = $1 AND order_id IN (SELECT order_id FROM locked)
          AND updated_unix < $2 AND NOT attention
          AND ((state = 'paid' AND fulfilled_unix < $2)
               OR (state = 'expired' AND expired_unix < $2))
        RETURNING order_id
    ), forgotten AS (
        DELETE FROM xorpay_events
        WHERE merchant = $1 AND order_id IN (SELECT order_id FROM pruned)
    )
    SELECT COUNT(*) FROM pruned";

/// Prunes at most `limit` of `merchant`'s orders closed before `before` (Unix seconds).
pub(super) async fn prune(
    pool: &Pool,
    merchant: &str,
    before: i64,
    limit: i64,
) -> Result<u64, StoreError> {
    let client = pool.get().await.map_err(database)?;
    let statement = client.prepare_cached(PRUNE).await.map_err(database)?;
    let row = client
        .query_one(&statement, &[&merchant, &before, &limit])
        .await
        .map_err(database)?;
    Ok(count(row.try_get(0).map_err(database)?))
}
