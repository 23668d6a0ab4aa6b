//! What the service records for its hook beyond a payment, with the change that causes it:
//! the kinds of the store's event rows, their subjects, and when each falls due.
//!
//! Every instance records them, with a hook or without (an operator's command resolving a
//! refund by hand has none): the instances with a hook tell them. A hook added later is told
//! of what was recorded before it.

use core::time::Duration;

use time::OffsetDateTime;

use super::clock::after;
use super::reconcile_policy::NOTIFY_RETRY_SPAN;
use crate::store::NewEvent;

/// The order expired and will not be asked about again.
pub(super) const EXPIRED: &str = "expired";
/// A refund was made.
pub(super) const REFUND_MADE: &str = "refund_made";
/// A refund was not made.
pub(super) const REFUND_NOT_MADE: &str = "refund_not_made";
/// A refund is still in doubt when it may be resolved. Its subject names the attempt,
/// [`in_doubt_subject`]: a refund never sent is withdrawn and its key may be asked again.
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

/// Beyond the grace window, how long before an expiry is told: a reconciliation pass reads
/// the orders it asks about when it starts, and may ask about one of them (and record it paid)
/// for as long as its batch of queries takes.
const EXPIRY_MARGIN: Duration = Duration::from_secs(3600);

/// The subject of a refund-in-doubt event: the attempt (when it was asked) and the key.
pub(super) fn in_doubt_subject(key: &str, asked_at: OffsetDateTime) -> String {
    format!("{}:{key}", asked_at.unix_timestamp())
}

/// The attempt and key a refund-in-doubt subject names.
pub(super) fn in_doubt_of(subject: &str) -> Option<(i64, &str)> {
    let (at, key) = subject.split_once(':')?;
    Some((at.parse().ok()?, key))
}

impl Tell {
    /// How long after it closed (paid, or expired) the service may still change an order: a
    /// late notification or reconciliation's last query, and the expiry told after them.
    pub(super) fn may_change_for(&self) -> Duration {
        self.expired_grace
            .max(NOTIFY_RETRY_SPAN)
            .saturating_add(EXPIRY_MARGIN)
    }

    /// The store's rows for `notices`.
    pub(super) fn events(&self, notices: &[Notice<'_>], now: OffsetDateTime) -> Vec<Owned> {
        notices
            .iter()
            .map(|notice| match *notice {
                // Told once reconciliation stops asking: no late payment can turn it paid.
                Notice::Expired { at } => Owned::new(
                    EXPIRED,
                    String::new(),
                    after(after(at, self.expired_grace), EXPIRY_MARGIN),
                ),
                Notice::RefundMade(key) => Owned::new(REFUND_MADE, key.to_owned(), now),
                Notice::RefundNotMade(key) => Owned::new(REFUND_NOT_MADE, key.to_owned(), now),
                // Told only if it is still in doubt once it may be resolved.
                Notice::RefundInDoubt { key, asked_at } => Owned::new(
                    REFUND_IN_DOUBT,
                    in_doubt_subject(key, asked_at),
                    after(asked_at, self.resolve_after),
                ),
                Notice::FeeError => Owned::new(FEE_ERROR, String::new(), now),
                // Told only if no notification named it within XorPay's retries.
                Notice::AoidUnknown => {
                    Owned::new(AOID_UNKNOWN, String::new(), after(now, NOTIFY_RETRY_SPAN))
                }
            })
            .collect()
    }
}

/// An event row to record, owning its subject.
pub(super) struct Owned {
    kind: &'static str,
    subject: String,
    due: OffsetDateTime,
}

impl Owned {
    fn new(kind: &'static str, subject: String, due: OffsetDateTime) -> Owned {
        Owned { kind, subject, due }
    }

    /// The store's row.
    pub(super) fn row(&self) -> NewEvent<'_> {
        NewEvent {
            kind: self.kind,
            subject: &self.subject,
            due: self.due,
        }
    }
}
