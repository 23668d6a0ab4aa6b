//! The hook's events in SQLite: `xorpay_events` (see [`events`](crate::store::NewEvent)),
//! written with the change that causes them and claimed like a fulfilment.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, params};

use super::sql::{DB_NOW_MS, database, unix};
use super::writer::Writer;
use crate::store::{
    EventClaim, EventRecord, NewEvent, StoreError, Transition, lease_millis, time_of,
};

/// An event to record, owned so that it can cross to the writer thread.
pub(super) struct Owned {
    kind: String,
    subject: String,
    due: i64,
}

/// `events`, owned.
pub(super) fn owned(events: &[NewEvent<'_>]) -> Vec<Owned> {
    events
        .iter()
        .map(|event| Owned {
            kind: event.kind.to_owned(),
            subject: event.subject.to_owned(),
            due: unix(event.due),
        })
        .collect()
}

/// Records `events` of the order, in the transaction of the change that caused them; one
/// already recorded is kept as it is.
pub(super) fn record(
    connection: &Connection,
    merchant: &str,
    order_id: &str,
    events: &[Owned],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut statement = connection
        .prepare_cached(
            "INSERT INTO xorpay_events (merchant, order_id, kind, subject, due_unix)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (merchant, order_id, kind, subject) DO NOTHING",
        )
        .map_err(database)?;
    for event in events {
        statement
            .execute(params![
                merchant,
                order_id,
                event.kind,
                event.subject,
                event.due
            ])
            .map_err(database)?;
    }
    Ok(())
}

/// The event claim (see [`EventClaim`]): `?1` token, `?2` lease in milliseconds, `?3`
/// merchant, `?4` now. The earlier due of two candidates, each the first of its index range:
/// the first event never claimed, and the first whose lease ended (schema:
/// `xorpay_events_due`, `_retry`).
pub(super) fn claim_sql() -> String {
    format!(
        "UPDATE xorpay_events SET claim_token = ?1, claimed_until_ms = {DB_NOW_MS} + ?2
             WHERE rowid = (
                 SELECT rowid FROM (
                     SELECT * FROM (
                         SELECT rowid, due_unix FROM xorpay_events
                         WHERE merchant = ?3 AND done_unix IS NULL
                           AND claimed_until_ms IS NULL AND due_unix <= ?4
                         ORDER BY due_unix LIMIT 1)
                     UNION ALL
                     SELECT * FROM (
                         SELECT rowid, due_unix FROM xorpay_events
                         WHERE merchant = ?3 AND done_unix IS NULL
                           AND claimed_until_ms IS NOT NULL
                           AND claimed_until_ms <= {DB_NOW_MS} AND due_unix <= ?4
                         ORDER BY claimed_until_ms LIMIT 1))
                 ORDER BY due_unix LIMIT 1)
             RETURNING order_id, kind, subject, due_unix"
    )
}

/// Claims the next event due of `merchant` (see [`EventClaim`]).
pub(super) async fn claim(
    writer: &Writer,
    merchant: &Arc<str>,
    claim: &EventClaim<'_>,
) -> Result<Option<EventRecord>, StoreError> {
    let sql = claim_sql();
    let (token, lease, now) = (
        claim.token.to_owned(),
        lease_millis(claim.lease),
        unix(claim.now),
    );
    let merchant = Arc::clone(merchant);
    let row: Option<(String, String, String, i64)> = writer
        .write(move |connection| {
            let mut statement = connection.prepare_cached(&sql).map_err(database)?;
            let mut rows = statement
                .query(params![token, lease, &*merchant, now])
                .map_err(database)?;
            match rows.next().map_err(database)? {
                Some(row) => Ok(Some((
                    row.get(0).map_err(database)?,
                    row.get(1).map_err(database)?,
                    row.get(2).map_err(database)?,
                    row.get(3).map_err(database)?,
                ))),
                None => Ok(None),
            }
        })
        .await?;
    row.map(|(order_id, kind, subject, due)| {
        let due = time_of(&order_id, Some(due))?.unwrap_or(claim.now);
        Ok(EventRecord {
            order_id,
            kind,
            subject,
            due,
        })
    })
    .transpose()
}

/// Records the event done at `at`, if `token` still holds its claim.
pub(super) async fn finish(
    writer: &Writer,
    merchant: &Arc<str>,
    event: &EventRecord,
    token: &str,
    at: i64,
) -> Result<Transition, StoreError> {
    let (order_id, kind, subject) = key(event);
    let (token, merchant) = (token.to_owned(), Arc::clone(merchant));
    writer
        .write(move |connection| {
            let changed = connection
                .prepare_cached(
                    "UPDATE xorpay_events SET done_unix = ?5, claim_token = NULL,
                         claimed_until_ms = NULL
                     WHERE merchant = ?1 AND order_id = ?2 AND kind = ?3 AND subject = ?4
                       AND claim_token = ?6 AND done_unix IS NULL",
                )
                .and_then(|mut statement| {
                    statement.execute(params![&*merchant, order_id, kind, subject, at, token])
                })
                .map_err(database)?;
            Ok(match changed {
                1 => Transition::Applied,
                _ => Transition::NotApplied,
            })
        })
        .await
}

/// Gives up `token`'s claim on the event for `retry_after`.
pub(super) async fn release(
    writer: &Writer,
    merchant: &Arc<str>,
    event: &EventRecord,
    token: &str,
    retry_after: Duration,
) -> Result<(), StoreError> {
    let (order_id, kind, subject) = key(event);
    let (token, merchant) = (token.to_owned(), Arc::clone(merchant));
    let retry = lease_millis(retry_after);
    let sql = format!(
        "UPDATE xorpay_events SET claim_token = NULL, claimed_until_ms = {DB_NOW_MS} + ?5
             WHERE merchant = ?1 AND order_id = ?2 AND kind = ?3 AND subject = ?4
               AND claim_token = ?6"
    );
    writer
        .write(move |connection| {
            connection
                .prepare_cached(&sql)
                .and_then(|mut statement| {
                    statement.execute(params![&*merchant, order_id, kind, subject, retry, token])
                })
                .map(drop)
                .map_err(database)
        })
        .await
}

fn key(event: &EventRecord) -> (String, String, String) {
    (
        event.order_id.clone(),
        event.kind.clone(),
        event.subject.clone(),
    )
}
