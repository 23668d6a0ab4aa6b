//! The hook's events in MySQL and MariaDB: `xorpay_events` (see
//! [`events`](crate::store::NewEvent)), written in the transaction of the change that causes
//! them and claimed like a fulfilment. Every `UPDATE` here changes the row it matches (a new
//! token, a token cleared, a time set from NULL), so the affected rows are the matched rows
//! however the pool counts.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::{Params, Pool, Value};

use super::sql::{DB_NOW_MS, database, millis, read_committed, unix};
use crate::store::{EventClaim, EventRecord, NewEvent, StoreError, Transition, time_of};

/// Records `events` of the order in `transaction`; one already recorded is kept as it is.
pub(super) async fn record(
    transaction: &mut mysql_async::Transaction<'_>,
    merchant: Value,
    order_id: &str,
    events: &[NewEvent<'_>],
) -> Result<(), StoreError> {
    for event in events {
        transaction
            .exec_drop(
                "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix)
                 VALUES (?, ?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE kind = kind",
                Params::Positional(vec![
                    merchant.clone(),
                    Value::from(order_id),
                    Value::from(event.kind),
                    Value::from(event.subject),
                    unix(event.due),
                ]),
            )
            .await
            .map_err(database)?;
    }
    Ok(())
}

/// Runs one statement; returns how many rows it matched (each one it matches it changes).
async fn execute(pool: &Pool, sql: &str, parameters: Vec<Value>) -> Result<u64, StoreError> {
    let mut conn = pool.get_conn().await.map_err(database)?;
    conn.exec_drop(sql, Params::Positional(parameters))
        .await
        .map_err(database)?;
    Ok(conn.affected_rows())
}

/// Claims the next event due of `merchant` (see [`EventClaim`]).
pub(super) async fn claim(
    pool: &Pool,
    merchant: &str,
    claim: &EventClaim<'_>,
) -> Result<Option<EventRecord>, StoreError> {
    let mut conn = pool.get_conn().await.map_err(database)?;
    let mut transaction = read_committed(&mut conn).await?;
    // The earlier due of two candidates, each the first of its range of `xorpay_events_due`:
    // the first event never claimed, and the first whose lease ended. Locked as they are
    // picked; an event another claimer holds locked is skipped.
    let mut picked: Option<(Vec<u8>, String, Vec<u8>, i64)> = None;
    let ranges = [
        ("claimed_until_ms IS NULL".to_owned(), "due_unix"),
        (
            format!("claimed_until_ms IS NOT NULL AND claimed_until_ms <= {DB_NOW_MS}"),
            "claimed_until_ms",
        ),
    ];
    for (condition, order) in &ranges {
        let candidate: Option<(Vec<u8>, String, Vec<u8>, i64)> = transaction
            .exec_first(
                format!(
                    "SELECT order_id, kind, subject, due_unix FROM xorpay_events
                         WHERE merchant = ? AND done_unix IS NULL AND due_unix <= ?
                           AND {condition}
                         ORDER BY {order} LIMIT 1
                         FOR UPDATE SKIP LOCKED"
                ),
                Params::Positional(vec![Value::from(merchant), unix(claim.now)]),
            )
            .await
            .map_err(database)?;
        if let Some(candidate) = candidate
            && picked.as_ref().is_none_or(|picked| candidate.3 < picked.3)
        {
            picked = Some(candidate);
        }
    }
    let Some((order_id, kind, subject, due)) = picked else {
        transaction.commit().await.map_err(database)?;
        return Ok(None);
    };
    transaction
        .exec_drop(
            format!(
                "UPDATE xorpay_events SET claim_token = ?,
                         claimed_until_ms = {DB_NOW_MS} + ?
                     WHERE merchant = ? AND order_id = ? AND kind = ? AND subject = ?"
            ),
            Params::Positional(vec![
                Value::from(claim.token),
                millis(claim.lease),
                Value::from(merchant),
                Value::Bytes(order_id.clone()),
                Value::from(kind.as_str()),
                Value::Bytes(subject.clone()),
            ]),
        )
        .await
        .map_err(database)?;
    transaction.commit().await.map_err(database)?;
    let text = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|_| StoreError::Database("a key is not UTF-8".into()))
    };
    let order_id = text(order_id)?;
    Ok(Some(EventRecord {
        due: time_of(&order_id, Some(due))?.unwrap_or(claim.now),
        kind,
        subject: text(subject)?,
        order_id,
    }))
}

/// Records the event done at `at`, if `token` still holds its claim.
pub(super) async fn finish(
    pool: &Pool,
    merchant: &str,
    event: &EventRecord,
    token: &str,
    at: Value,
) -> Result<Transition, StoreError> {
    let changed = execute(
        pool,
        "UPDATE xorpay_events SET done_unix = ?, claim_token = NULL,
                     claimed_until_ms = NULL
                 WHERE merchant = ? AND order_id = ? AND kind = ? AND subject = ?
                   AND claim_token = ? AND done_unix IS NULL",
        vec![
            at,
            Value::from(merchant),
            Value::from(event.order_id.as_str()),
            Value::from(event.kind.as_str()),
            Value::from(event.subject.as_str()),
            Value::from(token),
        ],
    )
    .await?;
    Ok(match changed {
        1 => Transition::Applied,
        _ => Transition::NotApplied,
    })
}

/// Gives up `token`'s claim on the event for `retry_after`.
pub(super) async fn release(
    pool: &Pool,
    merchant: &str,
    event: &EventRecord,
    token: &str,
    retry_after: Duration,
) -> Result<(), StoreError> {
    execute(
        pool,
        &format!(
            "UPDATE xorpay_events SET claim_token = NULL,
                     claimed_until_ms = {DB_NOW_MS} + ?
                 WHERE merchant = ? AND order_id = ? AND kind = ? AND subject = ?
                   AND claim_token = ?"
        ),
        vec![
            millis(retry_after),
            Value::from(merchant),
            Value::from(event.order_id.as_str()),
            Value::from(event.kind.as_str()),
            Value::from(event.subject.as_str()),
            Value::from(token),
        ],
    )
    .await
    .map(drop)
}
