//! Which orders reconciliation asks XorPay about, and how long after expiry.

use core::time::Duration;

/// How long XorPay keeps notifying an unacknowledged payment: 7 attempts, 1 + 2 + 4 + 16 +
/// 64 + 300 minutes apart (docs/protocol.md §7), 6 h 27 min in all. That is the longer of the
/// two readings of XorPay's schedule (the other counts the minutes from the first attempt:
/// 5 hours), so it is safe as an upper bound either way.
pub const NOTIFY_RETRY_SPAN: Duration = Duration::from_secs((1 + 2 + 4 + 16 + 64 + 300) * 60);

/// Which orders [`Payments::reconcile`](super::Payments::reconcile) asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcilePolicy {
    /// A `created` or `pending` order is asked about once it is this old. Longer than any
    /// request takes (the client's timeout), so that a submission still under way is not
    /// taken for a lost one (the service raises a shorter setting to the timeout plus 2
    /// seconds). Default: 2 minutes.
    pub stale_after: Duration,
    /// How long after its expiry an order is still asked about: never less than
    /// [`NOTIFY_RETRY_SPAN`] (a shorter setting is raised to it). Default: 24 hours.
    pub expired_grace: Duration,
    /// The most orders asked about in one call. Default: 200.
    pub batch: usize,
}

impl Default for ReconcilePolicy {
    fn default() -> ReconcilePolicy {
        ReconcilePolicy {
            stale_after: Duration::from_secs(120),
            expired_grace: Duration::from_secs(24 * 3600),
            batch: 200,
        }
    }
}
