//! Payments in PostgreSQL, several in one statement (see [`batch`](crate::store::batch)):
//! one `UPDATE … FROM unnest(…)` that pays every order still `pending` at its price and
//! `aoid` whose row no other writer holds, and returns those it paid. One statement: one
//! transaction, one commit. A payment alone in its batch is written by the same statement
//! for one row, without the arrays, which PostgreSQL runs faster.

use std::collections::HashSet;
use std::sync::Arc;

use deadpool_postgres::Pool;

use super::sql::database;
use crate::store::batch::{Apply, Payment, Written};

/// The same change [`OrderStore::change`](crate::store::OrderStore::change) makes of one
/// payment (`check_after_unix` cleared, as a change of state does), for each row of the
/// arrays. The rows are locked first, skipping those another writer holds (their payments
/// are written alone, so that one held row never holds up the batch).
const PAY: &str = "WITH v AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[],
                             $6::text[], $7::bigint[])
            AS v(merchant, order_id, price_fen, aoid, revision, data, at)
    ), locked AS (
        SELECT o.merchant, o.order_id FROM xorpay_orders AS o
        JOIN v ON o.merchant = v.merchant AND o.order_id = v.order_id
        WHERE o.state = 'pending' AND o.price_fen = v.price_fen AND o.aoid = v.aoid
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE xorpay_orders AS o SET check_after_unix = NULL, state = 'paid',
        revision = v.revision, data_json = v.data, attention = false, updated_unix = v.at
    FROM v, locked
    WHERE o.merchant = locked.merchant AND o.order_id = locked.order_id
      AND o.merchant = v.merchant AND o.order_id = v.order_id AND o.state = 'pending'
      AND o.price_fen = v.price_fen AND o.aoid = v.aoid
    RETURNING o.merchant, o.order_id";

/// [`PAY`] for one payment: the same change of the same row, locked first unless another
/// writer holds it (then the payment is written alone by its caller, as in a batch).
const PAY_ONE: &str = "WITH locked AS (
        SELECT merchant, order_id FROM xorpay_orders
        WHERE merchant = $1 AND order_id = $2 AND state = 'pending' AND price_fen = $3
          AND aoid = $4
        FOR UPDATE SKIP LOCKED
    )
    UPDATE xorpay_orders AS o SET check_after_unix = NULL, state = 'paid',
        revision = $5, data_json = $6, attention = false, updated_unix = $7
    FROM locked
    WHERE o.merchant = locked.merchant AND o.order_id = locked.order_id
      AND o.state = 'pending' AND o.price_fen = $3 AND o.aoid = $4";

/// The batch's writer on `pool`.
pub(super) fn apply(pool: Pool) -> Apply {
    Arc::new(move |payments| {
        let pool = pool.clone();
        Box::pin(async move { pay(&pool, &payments).await })
    })
}

async fn pay(pool: &Pool, payments: &[Payment]) -> Written {
    let Ok(client) = pool.get().await else {
        return Written::Nothing;
    };
    if let [payment] = payments {
        return pay_one(&client, payment).await;
    }
    let Ok(statement) = client.prepare_cached(PAY).await else {
        return Written::Nothing;
    };
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
    let rows = match client
        .query(
            &statement,
            &[
                &merchants, &order_ids, &prices, &aoids, &revisions, &data, &at,
            ],
        )
        .await
    {
        Ok(rows) => rows,
        // The server refused the statement: it rolled back.
        Err(error) if error.as_db_error().is_some() => return Written::Nothing,
        // The connection failed: the statement may have committed.
        Err(error) => return Written::Unknown(database(error)),
    };
    let mut paid = HashSet::new();
    for row in &rows {
        match (row.try_get::<_, String>(0), row.try_get::<_, String>(1)) {
            (Ok(merchant), Ok(order_id)) => {
                paid.insert((merchant, order_id));
            }
            (Err(error), _) | (_, Err(error)) => return Written::Unknown(database(error)),
        }
    }
    Written::Committed(
        payments
            .iter()
            .map(|p| paid.contains(&(p.merchant.to_string(), p.order_id.clone())))
            .collect(),
    )
}

async fn pay_one(client: &deadpool_postgres::Client, payment: &Payment) -> Written {
    let Ok(statement) = client.prepare_cached(PAY_ONE).await else {
        return Written::Nothing;
    };
    let done = client
        .execute(
            &statement,
            &[
                &&*payment.merchant,
                &payment.order_id,
                &i64::try_from(payment.price_fen).unwrap_or(i64::MAX),
                &payment.aoid,
                &i64::from(payment.new_revision),
                &payment.data,
                &payment.at,
            ],
        )
        .await;
    match done {
        Ok(changed) => Written::Committed(vec![changed > 0]),
        // The server refused the statement: it rolled back.
        Err(error) if error.as_db_error().is_some() => Written::Nothing,
        // The connection failed: the statement may have committed.
        Err(error) => Written::Unknown(database(error)),
    }
}
