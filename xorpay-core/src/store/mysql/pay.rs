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
use crate::store::StoreError;
use crate::store::batch::{Apply, Payment, Written};

/// A pending order as read: merchant, order number, price, `aoid`.
type Pending = (Vec<u8>, Vec<u8>, i64, Option<Vec<u8>>);

/// The batch's writer on `pool`.
pub(super) fn apply(pool: Pool) -> Apply {
    Arc::new(move |payments| {
        let pool = pool.clone();
        Box::pin(async move { pay(&pool, &payments).await })
    })
}

async fn pay(pool: &Pool, payments: &[Payment]) -> Written {
    let Ok(mut conn) = pool.get_conn().await else {
        return Written::Nothing;
    };
    if let [payment] = payments {
        return pay_one(&mut conn, payment).await;
    }
    // The common case: every order still pending at its payment's price and `aoid`. One
    // `UPDATE` pays them all, and having changed them all is the answer. (A transaction
    // dropped unfinished is rolled back.)
    let Ok(mut transaction) = conn.start_transaction(TxOpts::default()).await else {
        return Written::Nothing;
    };
    match update(&mut transaction, payments).await {
        Ok(changed) if changed == payments.len() => {
            return commit(transaction, vec![true; payments.len()]).await;
        }
        Ok(_) => {
            if transaction.rollback().await.is_err() {
                return Written::Nothing;
            }
        }
        Err(_) => return Written::Nothing,
    }
    // Some not: those still pending are read and locked (skipping rows another writer holds:
    // their payments are written alone), then paid.
    let Ok(mut transaction) = conn.start_transaction(TxOpts::default()).await else {
        return Written::Nothing;
    };
    let Ok(pending) = locked_pending(&mut transaction, payments).await else {
        return Written::Nothing;
    };
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
        match update(&mut transaction, &to_pay).await {
            Ok(changed) if changed == to_pay.len() => {}
            // Not what the locks promised: nothing is committed, each caller writes alone.
            Ok(_) | Err(_) => return Written::Nothing,
        }
    }
    commit(transaction, paid).await
}

/// Commits: the batch is written, or, when the commit's answer is lost, nobody knows.
async fn commit(transaction: mysql_async::Transaction<'_>, paid: Vec<bool>) -> Written {
    match transaction.commit().await {
        Ok(()) => Written::Committed(paid),
        Err(error) => Written::Unknown(database(error)),
    }
}

/// The orders of `payments` still `pending`, read as they are and locked until the commit;
/// rows another writer holds are skipped.
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
                 ORDER BY merchant, order_id FOR UPDATE SKIP LOCKED"
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
        "SELECT CAST(? AS BINARY) AS merchant, CAST(? AS BINARY) AS order_id, ? AS price_fen, \
         CAST(? AS BINARY) AS aoid, ? AS revision, CAST(? AS CHAR CHARACTER SET utf8mb4) AS data, \
         ? AS at";
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
async fn pay_one(conn: &mut mysql_async::Conn, payment: &Payment) -> Written {
    let done = conn
        .exec_drop(
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
        .await;
    match done {
        // Each write adds one to `writes`: a matched row is a changed row.
        Ok(()) => Written::Committed(vec![conn.affected_rows() > 0]),
        // The server refused the statement: nothing was written.
        Err(mysql_async::Error::Server(_)) => Written::Nothing,
        Err(error) => Written::Unknown(database(error)),
    }
}
