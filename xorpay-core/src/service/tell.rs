//! The hook's events beyond a payment, from the store's event rows: each claimed when due,
//! checked against the order as it is now (an event that no longer holds is recorded done
//! without being told), told, and recorded; a failure is released for one lease.

use std::time::Instant;

use super::hook::{Attention, Event, HookRuns};
use super::lease::{tell_within, token};
use super::notices::{
    AOID_UNKNOWN, EXPIRED, FEE_ERROR, REFUND_IN_DOUBT, REFUND_MADE, REFUND_NOT_MADE, in_doubt_of,
};
use super::record;
use super::{Payments, ServiceOrder};
use crate::metrics::{self, HookRun};
use crate::order::{RefundState, StoredOrder};
use crate::store::{EventClaim, EventRecord, StoreError, Transition};

/// What a recorded event comes to, against the order as it is now.
enum Due<'a, O> {
    /// Tell the hook of this.
    Tell(Event<'a, O>),
    /// It no longer holds (the order moved on, the refund was resolved, the order is gone):
    /// recorded done without telling.
    Void,
    /// The order cannot be read, or the event is of a kind this release does not know: left
    /// for later, and logged.
    Unreadable,
}

impl<O: ServiceOrder> Payments<O> {
    /// Tells the hook of every event due, counting into `report`.
    pub(super) async fn tell_until(
        &self,
        stop: &impl Fn() -> bool,
        report: &mut HookRuns,
    ) -> Result<(), StoreError> {
        let Some(hook) = &self.inner.hook else {
            return Ok(());
        };
        let store = &self.inner.store;
        let lease = self.inner.lease;
        while !stop() {
            let token = token();
            let claim = EventClaim {
                now: self.now(),
                token: &token,
                lease,
            };
            let Some(event) = store.claim_event(&claim).await? else {
                break;
            };
            // The lease is counted from here (its answer may have waited behind a busy
            // writer), reading the order included.
            let claimed = Instant::now();
            let record = store.load(&event.order_id).await?;
            let stored = record.as_ref().map(record::typed::<O>);
            let due = match (&record, &stored) {
                (Some(record), Some(Ok(order))) => judge(&event, order, record.attention),
                (_, Some(Err(_))) => Due::Unreadable,
                _ => Due::Void,
            };
            let run = match due {
                Due::Tell(told) => {
                    let name = told.name();
                    let run = if tell_within(hook.as_ref(), told, lease, claimed).await {
                        match store.finish_event(&event, &token, self.now()).await? {
                            Transition::Applied => HookRun::Done,
                            Transition::NotApplied => HookRun::TakenOver,
                        }
                    } else {
                        store.release_event(&event, &token, lease).await?;
                        HookRun::Failed
                    };
                    metrics::hook_ran(name, run);
                    run
                }
                Due::Void => {
                    let _ = store.finish_event(&event, &token, self.now()).await?;
                    continue;
                }
                Due::Unreadable => {
                    tracing::error!(
                        order_id = event.order_id,
                        kind = event.kind,
                        "hook: unreadable order, or an event of a kind this release does not know"
                    );
                    store.release_event(&event, &token, lease).await?;
                    HookRun::Failed
                }
            };
            report.count(run);
        }
        Ok(())
    }
}

/// What `event` comes to for the order as stored (`flagged`: its row is flagged for a
/// person).
fn judge<'a, O>(event: &'a EventRecord, order: &'a StoredOrder<O>, flagged: bool) -> Due<'a, O> {
    let refund = |key: &str, state: RefundState| match order {
        StoredOrder::Paid(paid) => paid
            .refund_with_key(key)
            .filter(|refund| refund.state() == state)
            .map(|refund| (paid, refund)),
        _ => None,
    };
    let attention = |why: Attention| Event::NeedsAttention { order, why };
    let told = match event.kind.as_str() {
        // Not final while flagged: XorPay said fee_error (the payer paid), reconciliation
        // still asks, and it turns paid once the fee is taken.
        EXPIRED => match order {
            StoredOrder::Expired(expired) if !flagged => Some(Event::Expired(expired)),
            _ => None,
        },
        REFUND_MADE => refund(&event.subject, RefundState::Made)
            .map(|(order, refund)| Event::RefundMade { order, refund }),
        REFUND_NOT_MADE => refund(&event.subject, RefundState::NotMade)
            .map(|(order, refund)| Event::RefundNotMade { order, refund }),
        // The attempt it was recorded for, still in doubt: a key withdrawn (never sent) and
        // asked again is another attempt, with an event of its own.
        REFUND_IN_DOUBT => {
            let Some((asked, key)) = in_doubt_of(&event.subject) else {
                return Due::Unreadable;
            };
            refund(key, RefundState::InDoubt)
                .filter(|(_, refund)| refund.requested_at().unix_timestamp() == asked)
                .map(|_| {
                    attention(Attention::RefundInDoubt {
                        key: key.to_owned(),
                    })
                })
        }
        FEE_ERROR => match order {
            StoredOrder::Paid(_) => None,
            _ => Some(attention(Attention::FeeError)),
        },
        AOID_UNKNOWN => match order {
            StoredOrder::Paid(paid) if paid.aoid().is_none() => {
                Some(attention(Attention::AoidUnknown))
            }
            _ => None,
        },
        _ => return Due::Unreadable,
    };
    told.map_or(Due::Void, Due::Tell)
}
