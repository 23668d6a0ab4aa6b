//! Payments in MySQL and MariaDB, several in one transaction (see
//! [`batch`](crate::store::batch)). Commonly in three round trips whatever their number:
//! one `UPDATE` joined to the payments' values pays every order, and having changed them all
//! is the answer (a payment alone is its one `UPDATE`). When it changed fewer, it is
//! rolled back and the batch written again: the orders are read and locked (`FOR UPDATE`:
//! the latest rows), those still `pending` at their payment's price and `aoid` are paid by
//! the same `UPDATE`, and one commit ends it. The orders it pays are exactly those it found
//! so: they stay locked in between.

use std::collections::HashSet;
use std::sync::Arc;

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Pool, TxOpts, Value};

use super::sql::{database, placeholders};
use crate::store::batch::{Apply, Payment};
use crate::store::{StoreError, Transition};

/// A pending order as read: merchant, order number, price, `aoid`.
type Pending = (Vec<u8>, Vec<u8>, i64, Option<Vec<u8>>);

/// The batch's writer on `pool`.
pub(super) fn apply(pool: Pool) -> Apply {
    Arc::new(move |payments| {
        let pool = pool.clone();
        Box::pin(async move { pay(&pool, &payments).await })
    })
}

async fn pay(pool: &Pool, payments: &[Payment]) -> Result<Vec<Transition>, StoreError> {
    let mut conn = pool.get_conn().await.map_err(database)?;
    if let [payment] = payments {
        return Ok(vec![pay_one(&mut conn, payment).await?]);
    }
    // The common case: every order still pending at its payment's price and `aoid`. One
    // `UPDATE` pays them all, and having changed them all is the answer.
    let mut transaction = conn
        .start_transaction(TxOpts::default())
        .await
        .map_err(database)?;
    if update(&mut transaction, payments).await? == payments.len() {
        transaction.commit().await.map_err(database)?;
        return Ok(vec![Transition::Applied; payments.len()]);
    }
    transaction.rollback().await.map_err(database)?;
    // Some not: which ones is read under lock, then those are paid.
    let mut transaction = conn
        .start_transaction(TxOpts::default())
        .await
        .map_err(database)?;
    let pending = locked_pending(&mut transaction, payments).await?;
    let paid: Vec<bool> = payments
        .iter()
        .map(|payment| {
            pending.contains(&(
                payment.merchant.as_bytes().to_vec(),
                payment.order_id.as_bytes().to_vec(),
                i64::try_from(payment.price_fen).unwrap_or(i64::MAX),
                Some(payment.aoid.as_bytes().to_vec()),
            ))
        })
        .collect();
    let to_pay: Vec<Payment> = payments
        .iter()
        .zip(&paid)
        .filter(|(_, paid)| **paid)
        .map(|(payment, _)| payment.clone())
        .collect();
    if !to_pay.is_empty() {
        let changed = update(&mut transaction, &to_pay).await?;
        if changed != to_pay.len() {
            // Not what the locks promised: write nothing, each caller writes alone.
            transaction.rollback().await.map_err(database)?;
            return Err(StoreError::Database(format!(
                "a batch of payments changed {changed} rows, not {}",
                to_pay.len()
            )));
        }
    }
    transaction.commit().await.map_err(database)?;
    Ok(paid
        .into_iter()
        .map(|paid| {
            if paid {
                Transition::Applied
            } else {
                Transition::NotApplied
            }
        })
        .collect())
}

/// The orders of `payments` still `pending`, read as they are and locked until the commit.
async fn locked_pending(
    transaction: &mut mysql_async::Transaction<'_>,
    payments: &[Payment],
) -> Result<HashSet<Pending>, StoreError> {
    // Each merchant's orders by the primary key's prefix and an `IN` list (a row
    // constructor's `IN` may not use the index).
    let mut keys = Vec::new();
    let mut parameters = Vec::with_capacity(payments.len() * 2);
    for merchant in payments.chunk_by(|one, two| one.merchant == two.merchant) {
        keys.push(format!(
            "(merchant = ? AND order_id IN ({}))",
            placeholders(merchant.len())
        ));
        parameters.push(Value::from(merchant[0].merchant.as_bytes()));
        parameters.extend(merchant.iter().map(|p| Value::from(p.order_id.as_str())));
    }
    let keys = keys.join(" OR ");
    Ok(transaction
        .exec::<Pending, _, _>(
            format!(
                "SELECT merchant, order_id, price_fen, aoid FROM xorpay_orders
                 WHERE ({keys}) AND state = 'pending'
                 ORDER BY merchant, order_id FOR UPDATE"
            ),
            Params::Positional(parameters),
        )
        .await
        .map_err(database)?
        .into_iter()
        .collect())
}

/// Pays every order of `payments` still `pending` at its payment's price and `aoid`, with
/// the same change `OrderStore::change` makes of one payment (`check_after_unix` cleared, as
/// a change of state does), in one statement; how many it paid.
async fn update(
    transaction: &mut mysql_async::Transaction<'_>,
    payments: &[Payment],
) -> Result<usize, StoreError> {
    let values = vec![
        "SELECT ? AS merchant, ? AS order_id, ? AS price_fen, ? AS aoid, ? AS revision, \
         ? AS data, ? AS at";
        payments.len()
    ]
    .join(" UNION ALL ");
    let mut parameters = Vec::with_capacity(payments.len() * 7);
    for payment in payments {
        parameters.push(Value::from(payment.merchant.as_bytes()));
        parameters.push(Value::from(payment.order_id.as_str()));
        parameters.push(Value::Int(
            i64::try_from(payment.price_fen).unwrap_or(i64::MAX),
        ));
        parameters.push(Value::from(payment.aoid.as_str()));
        parameters.push(Value::from(payment.new_revision));
        parameters.push(Value::from(payment.data.as_str()));
        parameters.push(Value::Int(payment.at));
    }
    transaction
        .exec_drop(
            format!(
                "UPDATE xorpay_orders AS o JOIN ({values}) AS v
                     ON o.merchant = v.merchant AND o.order_id = v.order_id
                 SET o.check_after_unix = NULL, o.state = 'paid', o.revision = v.revision,
                     o.data_json = v.data, o.attention = FALSE, o.updated_unix = v.at,
                     o.writes = o.writes + 1
                 WHERE o.state = 'pending' AND o.price_fen = v.price_fen AND o.aoid = v.aoid"
            ),
            Params::Positional(parameters),
        )
        .await
        .map_err(database)?;
    Ok(usize::try_from(transaction.affected_rows()).unwrap_or(usize::MAX))
}

/// One payment alone: its conditional `UPDATE`, committed on its own (one round trip).
async fn pay_one(
    conn: &mut mysql_async::Conn,
    payment: &Payment,
) -> Result<Transition, StoreError> {
    conn.exec_drop(
        "UPDATE xorpay_orders SET check_after_unix = NULL, state = 'paid', revision = ?,
             data_json = ?, attention = FALSE, updated_unix = ?, writes = writes + 1
         WHERE merchant = ? AND order_id = ? AND price_fen = ? AND state = 'pending'
           AND aoid = ?",
        Params::Positional(vec![
            Value::from(payment.new_revision),
            Value::from(payment.data.as_str()),
            Value::Int(payment.at),
            Value::from(payment.merchant.as_bytes()),
            Value::from(payment.order_id.as_str()),
            Value::Int(i64::try_from(payment.price_fen).unwrap_or(i64::MAX)),
            Value::from(payment.aoid.as_str()),
        ]),
    )
    .await
    .map_err(database)?;
    // Each write adds one to `writes`: a matched row is a changed row.
    Ok(match conn.affected_rows() {
        0 => Transition::NotApplied,
        _ => Transition::Applied,
    })
}
