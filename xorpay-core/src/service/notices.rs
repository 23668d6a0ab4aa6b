//! What the service records for its hook beyond a payment, with the change that causes it:
//! the kinds of the store's event rows, and when each falls due.
//!
//! Nothing is recorded for a service without a hook: a hook added later is not told of what
//! happened before it.

use core::time::Duration;

use time::OffsetDateTime;

use super::reconcile_policy::NOTIFY_RETRY_SPAN;
use crate::store::NewEvent;

/// The order expired and will not be asked about again.
pub(super) const EXPIRED: &str = "expired";
/// A refund was made.
pub(super) const REFUND_MADE: &str = "refund_made";
/// A refund was not made.
pub(super) const REFUND_NOT_MADE: &str = "refund_not_made";
/// A refund is still in doubt when it may be resolved.
pub(super) const REFUND_IN_DOUBT: &str = "refund_in_doubt";
/// XorPay holds the order as `fee_error`.
pub(super) const FEE_ERROR: &str = "fee_error";
/// A paid order whose `aoid` no notification named.
pub(super) const AOID_UNKNOWN: &str = "aoid_unknown";

/// Something a change records for the hook.
#[derive(Debug, Clone, Copy)]
pub(super) enum Notice<'a> {
    /// The order expired at `at`.
    Expired { at: OffsetDateTime },
    /// The refund with this key was made.
    RefundMade(&'a str),
    /// The refund with this key was not made.
    RefundNotMade(&'a str),
    /// The refund with this key was asked for at `asked_at`, and is in doubt until answered.
    RefundInDoubt {
        key: &'a str,
        asked_at: OffsetDateTime,
    },
    /// XorPay said `fee_error`.
    FeeError,
    /// Paid by a query's answer, with no `aoid` yet.
    AoidUnknown,
}

/// When a service with a hook tells it of each notice.
#[derive(Debug, Clone, Copy)]
pub(super) struct Tell {
    /// How long after its expiry an order is still asked about.
    pub(super) expired_grace: Duration,
    /// How long after it was asked a refund in doubt may be resolved.
    pub(super) resolve_after: Duration,
}

fn after(at: OffsetDateTime, wait: Duration) -> OffsetDateTime {
    at.checked_add(time::Duration::try_from(wait).unwrap_or(time::Duration::MAX))
        .unwrap_or(at)
}

impl Tell {
    /// The store's rows for `notices`.
    pub(super) fn events<'a>(
        &self,
        notices: &[Notice<'a>],
        now: OffsetDateTime,
    ) -> Vec<NewEvent<'a>> {
        notices
            .iter()
            .map(|notice| {
                let (kind, subject, due) = match *notice {
                    // Told once no late payment can turn it paid: after the grace window.
                    Notice::Expired { at } => (EXPIRED, "", after(at, self.expired_grace)),
                    Notice::RefundMade(key) => (REFUND_MADE, key, now),
                    Notice::RefundNotMade(key) => (REFUND_NOT_MADE, key, now),
                    // Told only if it is still in doubt once it may be resolved.
                    Notice::RefundInDoubt { key, asked_at } => {
                        (REFUND_IN_DOUBT, key, after(asked_at, self.resolve_after))
                    }
                    Notice::FeeError => (FEE_ERROR, "", now),
                    // Told only if no notification named it within XorPay's retries.
                    Notice::AoidUnknown => (AOID_UNKNOWN, "", after(now, NOTIFY_RETRY_SPAN)),
                };
                NewEvent { kind, subject, due }
            })
            .collect()
    }
}
