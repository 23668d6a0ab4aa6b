//! Payments in PostgreSQL, several in one statement (see [`batch`](crate::store::batch)):
//! one `UPDATE … FROM unnest(…)` that pays every order still `pending` at its price and
//! `aoid`, and returns those it paid. One statement: one transaction, one commit.

use std::collections::HashSet;
use std::sync::Arc;

use deadpool_postgres::Pool;

use super::sql::database;
use crate::store::batch::{Apply, Payment};
use crate::store::{StoreError, Transition};

/// The same change [`OrderStore::change`](crate::store::OrderStore::change) makes of one
/// payment (`check_after_unix` cleared, as a change of state does), for each row of the
/// arrays.
const PAY: &str = "UPDATE xorpay_orders AS o SET check_after_unix = NULL, state = 'paid',
        revision = v.revision, data_json = v.data, attention = false, updated_unix = v.at
    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[],
                $7::bigint[]) AS v(merchant, order_id, price_fen, aoid, revision, data, at)
    WHERE o.merchant = v.merchant AND o.order_id = v.order_id AND o.state = 'pending'
      AND o.price_fen = v.price_fen AND o.aoid = v.aoid
    RETURNING o.merchant, o.order_id";

/// The batch's writer on `pool`.
pub(super) fn apply(pool: Pool) -> Apply {
    Arc::new(move |payments| {
        let pool = pool.clone();
        Box::pin(async move { pay(&pool, &payments).await })
    })
}

async fn pay(pool: &Pool, payments: &[Payment]) -> Result<Vec<Transition>, StoreError> {
    let client = pool.get().await.map_err(database)?;
    let statement = client.prepare_cached(PAY).await.map_err(database)?;
    let merchants: Vec<&str> = payments.iter().map(|p| &*p.merchant).collect();
    let order_ids: Vec<&str> = payments.iter().map(|p| p.order_id.as_str()).collect();
    let prices: Vec<i64> = payments
        .iter()
        .map(|p| i64::try_from(p.price_fen).unwrap_or(i64::MAX))
        .collect();
    let aoids: Vec<&str> = payments.iter().map(|p| p.aoid.as_str()).collect();
    let revisions: Vec<i64> = payments.iter().map(|p| i64::from(p.new_revision)).collect();
    let data: Vec<&str> = payments.iter().map(|p| p.data.as_str()).collect();
    let at: Vec<i64> = payments.iter().map(|p| p.at).collect();
    let rows = client
        .query(
            &statement,
            &[
                &merchants, &order_ids, &prices, &aoids, &revisions, &data, &at,
            ],
        )
        .await
        .map_err(database)?;
    let mut paid = HashSet::new();
    for row in &rows {
        let merchant: String = row.try_get(0).map_err(database)?;
        let order_id: String = row.try_get(1).map_err(database)?;
        paid.insert((merchant, order_id));
    }
    Ok(payments
        .iter()
        .map(|p| {
            if paid.contains(&(p.merchant.to_string(), p.order_id.clone())) {
                Transition::Applied
            } else {
                Transition::NotApplied
            }
        })
        .collect())
}
