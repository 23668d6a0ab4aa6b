//! The hook's events in PostgreSQL: `xorpay_events` (see [`events`](crate::store::NewEvent)),
//! written in the transaction of the change that causes them and claimed like a fulfilment.

use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use super::sql::{database, millis, unix};
use crate::store::{EventClaim, EventRecord, NewEvent, StoreError, Transition, time_of};

/// Records `events` of the order in `transaction`; one already recorded is kept as it is.
pub(super) async fn record(
    transaction: &deadpool_postgres::Transaction<'_>,
    merchant: &str,
    order_id: &str,
    events: &[NewEvent<'_>],
) -> Result<(), StoreError> {
    let statement = transaction
        .prepare_cached(
            "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (merchant, order_id, kind, subject) DO NOTHING",
        )
        .await
        .map_err(database)?;
    for event in events {
        transaction
            .execute(
                &statement,
                &[
                    &merchant,
                    &order_id,
                    &event.kind,
                    &event.subject,
                    &unix(event.due),
                ],
            )
            .await
            .map_err(database)?;
    }
    Ok(())
}

/// Runs one statement; returns how many rows it changed.
async fn execute(
    pool: &Pool,
    sql: &str,
    parameters: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let client = pool.get().await.map_err(database)?;
    let statement = client.prepare_cached(sql).await.map_err(database)?;
    client
        .execute(&statement, parameters)
        .await
        .map_err(database)
}

/// Claims the next event due of `merchant` (see [`EventClaim`]).
pub(super) async fn claim(
    pool: &Pool,
    merchant: &str,
    claim: &EventClaim<'_>,
) -> Result<Option<EventRecord>, StoreError> {
    // Picked once, in CTEs: the earlier due of two candidates, each the first of its index
    // range (the first event never claimed, and the first whose lease ended; schema:
    // `xorpay_events_due`, `_retry`). An event another claimer holds locked right now is
    // skipped.
    let client = pool.get().await.map_err(database)?;
    let statement = client
        .prepare_cached(
            "WITH fresh AS (
                     SELECT order_id, kind, subject, due_unix FROM xorpay_events
                     WHERE merchant = $1 AND done_unix IS NULL AND claimed_until IS NULL
                       AND due_unix <= $2
                     ORDER BY due_unix LIMIT 1
                     FOR UPDATE SKIP LOCKED),
                 retried AS (
                     SELECT order_id, kind, subject, due_unix FROM xorpay_events
                     WHERE merchant = $1 AND done_unix IS NULL AND claimed_until IS NOT NULL
                       AND claimed_until <= now() AND due_unix <= $2
                     ORDER BY claimed_until LIMIT 1
                     FOR UPDATE SKIP LOCKED),
                 picked AS (
                     SELECT * FROM fresh UNION ALL SELECT * FROM retried
                     ORDER BY due_unix LIMIT 1)
                 UPDATE xorpay_events SET claim_token = $3,
                     claimed_until = now() + $4::bigint * interval '1 millisecond'
                 FROM picked
                 WHERE xorpay_events.merchant = $1 AND xorpay_events.order_id = picked.order_id
                   AND xorpay_events.kind = picked.kind
                   AND xorpay_events.subject = picked.subject
                 RETURNING xorpay_events.order_id, xorpay_events.kind, xorpay_events.subject,
                     xorpay_events.due_unix",
        )
        .await
        .map_err(database)?;
    let row = client
        .query_opt(
            &statement,
            &[
                &merchant,
                &unix(claim.now),
                &claim.token,
                &millis(claim.lease),
            ],
        )
        .await
        .map_err(database)?;
    let Some(row) = row else {
        return Ok(None);
    };
    let order_id: String = row.try_get(0).map_err(database)?;
    let due: i64 = row.try_get(3).map_err(database)?;
    Ok(Some(EventRecord {
        due: time_of(&order_id, Some(due))?.unwrap_or(claim.now),
        kind: row.try_get(1).map_err(database)?,
        subject: row.try_get(2).map_err(database)?,
        order_id,
    }))
}

/// Records the event done at `at`, if `token` still holds its claim.
pub(super) async fn finish(
    pool: &Pool,
    merchant: &str,
    event: &EventRecord,
    token: &str,
    at: i64,
) -> Result<Transition, StoreError> {
    let changed = execute(
        pool,
        "UPDATE xorpay_events SET done_unix = $5, claim_token = NULL,
                     claimed_until = NULL
                 WHERE merchant = $1 AND order_id = $2 AND kind = $3 AND subject = $4
                   AND claim_token = $6 AND done_unix IS NULL",
        &[
            &merchant,
            &event.order_id,
            &event.kind,
            &event.subject,
            &at,
            &token,
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
        "UPDATE xorpay_events SET claim_token = NULL,
                 claimed_until = now() + $5::bigint * interval '1 millisecond'
             WHERE merchant = $1 AND order_id = $2 AND kind = $3 AND subject = $4
               AND claim_token = $6",
        &[
            &merchant,
            &event.order_id,
            &event.kind,
            &event.subject,
            &millis(retry_after),
            &token,
        ],
    )
    .await
    .map(drop)
}
