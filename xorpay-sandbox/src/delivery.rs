//! Notification delivery (docs/protocol.md §7): XorPay's form POST to the order's `notify_url`,
//! with its retry schedule.
//!
//! - The form carries `aoid`, `order_id`, `pay_price` (two decimals), `pay_time`
//!   (`YYYY-MM-DD HH:MM:SS`, China time), `more` (empty when none was sent), `detail` (JSON
//!   text) and `sign` = lowercase `md5(aoid + order_id + pay_price + pay_time + secret)`, as
//!   `application/x-www-form-urlencoded`.
//! - **HTTP 200 is an acknowledgement**, whatever the body; anything else (another status, a
//!   redirect, a refused connection, no answer within the notification timeout) is a failure.
//! - After a failure the next attempt comes **1, 2, 4, 16, 64 and 300 units after the previous
//!   attempt ended** (the gaps reading of §7), 7 attempts in all; the unit is a minute unless
//!   configured. When all 7 fail the order stays `payed`.
//! - Every request, with the start of its answer, is recorded on the order.
//!
//! Order faults ([`crate::OrderFault`]) shape the first attempt. Delivery uses plain HTTP
//! only: the sandbox has no TLS stack, so an `https://` notify_url fails every attempt, with
//! the error recorded.
//!
//! This module does not decide what to send (the ledger did, at payment time) and never
//! changes the signed values of a genuine notification.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use tokio::task::JoinSet;
use tokio::time::Instant;
use xorpay_core::Price;

use crate::faults::OrderFault;
use crate::ledger::{Delivery, Paying};
use crate::orders::{DeliveryAttempt, DeliveryRecord, NotificationKind};
use crate::orders::{OrderView, PayError};
use crate::sign;
use crate::state::Shared;

/// The gaps between attempts, in retry units: XorPay's 1, 2, 4, 16, 64 and 300 minutes.
pub(crate) const RETRY_GAPS: [u32; 6] = [1, 2, 4, 16, 64, 300];

/// The secret a [`OrderFault::TamperedSignature`] forgery is signed with.
const FORGER_SECRET: &str = "not-the-merchant-secret";

/// The payer pays the order; delivery starts unless it became `fee_error`.
pub(crate) fn pay(shared: &Arc<Shared>, aoid: &str, paying: Paying) -> Result<OrderView, PayError> {
    let now = shared.clock.now();
    let mut ledger = shared.ledger();
    let deliver = ledger.pay(aoid, &shared.config, now, paying)?;
    let view = ledger.view(aoid, now).ok_or(PayError::NotFound)?;
    drop(ledger);
    if deliver {
        spawn(shared, aoid.to_owned());
    }
    Ok(view)
}

/// Starts delivering the notification of a freshly paid order.
pub(crate) fn spawn(shared: &Arc<Shared>, aoid: String) {
    let task = deliver(Arc::clone(shared), aoid);
    shared.spawn(task);
}

/// Sends the delivery log's request `id` (`AOID.N`) again, now, exactly as it was sent, and
/// records it on its order as [`NotificationKind::Resent`]. `None` for an unknown id.
pub(crate) async fn resend(shared: &Arc<Shared>, id: &str) -> Option<DeliveryRecord> {
    let (delivery, attempt) = shared.ledger().replay(id)?;
    let (aoid, _) = id.rsplit_once('.')?;
    let outcome = post(
        shared,
        &delivery.notify_url,
        delivery.fields,
        attempt,
        NotificationKind::Resent,
        Instant::now(),
    )
    .await;
    shared.ledger().record_attempt(aoid, outcome);
    shared.ledger().delivery_log_of(aoid).pop()
}

async fn deliver(shared: Arc<Shared>, aoid: String) {
    let Some(delivery) = shared.ledger().delivery(&aoid) else {
        return;
    };
    let started = Instant::now();
    let mut acknowledged = false;
    // The first attempt at once, then one after each gap.
    let waits = std::iter::once(None).chain(RETRY_GAPS.iter().copied().map(Some));
    for (attempt, wait) in (1..).zip(waits) {
        if let Some(gap) = wait {
            tokio::time::sleep(shared.config.retry_unit.saturating_mul(gap)).await;
        }
        let fault = if attempt == 1 { delivery.fault } else { None };
        for outcome in attempt_with(&shared, &delivery, fault, attempt, started).await {
            acknowledged |= outcome.acknowledged && outcome.kind.is_genuine();
            shared.ledger().record_attempt(&aoid, outcome);
        }
        if acknowledged {
            break;
        }
    }
    shared.ledger().finish_delivery(&aoid, acknowledged);
}

/// One attempt of the schedule: the genuine notification, shaped by the fault if any.
async fn attempt_with(
    shared: &Arc<Shared>,
    delivery: &Delivery,
    fault: Option<OrderFault>,
    attempt: u32,
    started: Instant,
) -> Vec<DeliveryAttempt> {
    let genuine = &delivery.fields;
    let url = delivery.notify_url.as_str();
    let send = |kind, fields| post(shared, url, fields, attempt, kind, started);
    match fault {
        None => vec![send(NotificationKind::Genuine, genuine.clone()).await],
        Some(OrderFault::Duplicate) => vec![
            send(NotificationKind::Genuine, genuine.clone()).await,
            send(NotificationKind::Duplicate, genuine.clone()).await,
        ],
        Some(OrderFault::Concurrent { copies }) => {
            let mut copies_in_flight = JoinSet::new();
            for _ in 0..copies {
                let shared = Arc::clone(shared);
                let url = url.to_owned();
                let fields = genuine.clone();
                copies_in_flight.spawn(async move {
                    post(
                        &shared,
                        &url,
                        fields,
                        attempt,
                        NotificationKind::Concurrent,
                        started,
                    )
                    .await
                });
            }
            let mut outcomes = Vec::new();
            while let Some(outcome) = copies_in_flight.join_next().await {
                // A copy can only fail to join when the sandbox is shutting down.
                if let Ok(outcome) = outcome {
                    outcomes.push(outcome);
                }
            }
            outcomes
        }
        Some(OrderFault::TamperedAmount) => vec![
            send(NotificationKind::TamperedAmount, tamper_amount(genuine)).await,
            send(NotificationKind::Genuine, genuine.clone()).await,
        ],
        Some(OrderFault::TamperedSignature) => vec![
            send(NotificationKind::TamperedSignature, tamper_sign(genuine)).await,
            send(NotificationKind::Genuine, genuine.clone()).await,
        ],
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map_or("", |(_, value)| value.as_str())
}

fn replace(fields: &[(String, String)], name: &str, value: String) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(key, old)| {
            let new = if key == name {
                value.clone()
            } else {
                old.clone()
            };
            (key.clone(), new)
        })
        .collect()
}

/// The genuine notification with `pay_price` raised by 1.00 and the signature left alone.
fn tamper_amount(fields: &[(String, String)]) -> Vec<(String, String)> {
    let raised = field(fields, "pay_price")
        .parse::<Price>()
        .ok()
        .and_then(|price| price.checked_add(Price::from_yuan(1).ok()?))
        .map_or_else(|| "1.00".to_owned(), |price| price.to_wire().to_string());
    replace(fields, "pay_price", raised)
}

/// The genuine notification signed with the wrong secret.
fn tamper_sign(fields: &[(String, String)]) -> Vec<(String, String)> {
    let forged = sign::sign(
        &[
            field(fields, "aoid"),
            field(fields, "order_id"),
            field(fields, "pay_price"),
            field(fields, "pay_time"),
        ],
        FORGER_SECRET,
    );
    replace(fields, "sign", forged)
}

/// Posts one notification and records what happened.
async fn post(
    shared: &Shared,
    url: &str,
    fields: Vec<(String, String)>,
    attempt: u32,
    kind: NotificationKind,
    started: Instant,
) -> DeliveryAttempt {
    let offset_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    // The status alone decides acknowledgement (§7: any HTTP 200, the body is not required);
    // the body is read only for the log, with what is left of the same timeout.
    let deadline = deadline(shared.config.notify_timeout);
    let no_answer = || {
        format!(
            "no answer within {} ms",
            shared.config.notify_timeout.as_millis()
        )
    };
    let sent = shared
        .http
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send();
    let (status, error, body) = match tokio::time::timeout_at(deadline, sent).await {
        Ok(Ok(mut response)) => {
            let mut excerpt = Vec::new();
            let read = tokio::time::timeout_at(deadline, read_excerpt(&mut response, &mut excerpt));
            let error = match read.await {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(format!("body cut short: {}", describe(&error))),
                Err(_) => Some(format!("body cut short: {}", no_answer())),
            };
            excerpt.truncate(DeliveryAttempt::BODY_EXCERPT);
            let body = String::from_utf8_lossy(&excerpt).into_owned();
            (Some(response.status().as_u16()), error, body)
        }
        Ok(Err(error)) => (None, Some(describe(&error)), String::new()),
        Err(_) => (None, Some(no_answer()), String::new()),
    };
    DeliveryAttempt {
        attempt,
        kind,
        offset_ms,
        fields: fields.into_iter().collect::<BTreeMap<_, _>>(),
        status,
        error,
        body,
        acknowledged: status == Some(200),
    }
}

/// Reads the start of a response body into `excerpt`, up to [`DeliveryAttempt::BODY_EXCERPT`]
/// bytes; what was read stays there if the body breaks off.
async fn read_excerpt(
    response: &mut reqwest::Response,
    excerpt: &mut Vec<u8>,
) -> Result<(), reqwest::Error> {
    while excerpt.len() < DeliveryAttempt::BODY_EXCERPT {
        match response.chunk().await? {
            Some(chunk) => excerpt.extend_from_slice(&chunk),
            None => break,
        }
    }
    Ok(())
}

/// reqwest's message with its causes ("error sending request: … connection refused").
fn describe(error: &reqwest::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// How long the whole schedule waits between attempts, for documentation and tests.
/// `timeout` from now; a timeout too long for the clock (`Duration::MAX`: no timeout) ends
/// thirty years from now.
pub(crate) fn deadline(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400))
}

#[cfg(test)]
fn total_wait(unit: std::time::Duration) -> std::time::Duration {
    RETRY_GAPS.iter().map(|gap| unit.saturating_mul(*gap)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// No timeout (`Duration::MAX`) is a deadline decades away, not a panic.
    #[test]
    fn a_timeout_of_forever_is_a_deadline_far_away() {
        let years = Duration::from_secs(365 * 86_400);
        assert!(deadline(Duration::MAX) > Instant::now() + 20 * years);
        let soon = deadline(Duration::from_secs(5));
        assert!(soon <= Instant::now() + Duration::from_secs(5));
    }

    fn genuine() -> Vec<(String, String)> {
        [
            ("aoid", "e19c8c8673ba42419043fc92b99303c1"),
            ("order_id", "order-1"),
            ("pay_price", "50.00"),
            ("pay_time", "2019-01-01 00:00:00"),
            ("more", ""),
            ("detail", "{}"),
            ("sign", "1697d616f596edc250419d79f754ad16"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    #[test]
    fn schedule_is_xorpays() {
        // 1 + 2 + 4 + 16 + 64 + 300 minutes = 387 minutes, 6 h 27 min.
        assert_eq!(
            total_wait(Duration::from_secs(60)),
            Duration::from_secs(387 * 60)
        );
    }

    #[test]
    fn forgeries_change_exactly_one_field() {
        let fields = genuine();
        let amount = tamper_amount(&fields);
        assert_eq!(field(&amount, "pay_price"), "51.00");
        assert_eq!(field(&amount, "sign"), field(&fields, "sign"));
        let signed = tamper_sign(&fields);
        assert_eq!(field(&signed, "pay_price"), "50.00");
        assert_ne!(field(&signed, "sign"), field(&fields, "sign"));
        assert_eq!(field(&signed, "sign").len(), 32);
    }
}
