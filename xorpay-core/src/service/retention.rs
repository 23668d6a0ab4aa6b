//! Retention ([`Payments::prune`]): orders closed longer than the merchant keeps them become
//! tombstones, their payer's data erased, their number still taken.

use core::fmt;
use core::time::Duration;

use time::OffsetDateTime;

use super::{Payments, ServiceOrder};
use crate::store::StoreError;

/// How many orders one store call prunes: one transaction each, short enough not to hold up
/// the payments written beside it.
const BATCH: usize = 200;

/// The most batches one round of the background work prunes: a book pruned for the first
/// time is pruned over several rounds, never holding up reconciliation and the hooks.
const SWEEP_BATCHES: usize = 10;

/// The shortest time closed orders are kept, whatever the merchant asks: long past any late
/// word of them, and a week to look at them.
const MIN_KEEP: Duration = Duration::from_secs(7 * 24 * 3600);

/// How often at most the background work prunes: pruning follows the age of orders in
/// days, and its read is not free.
pub(super) const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// What [`Payments::prune`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pruned {
    /// The orders pruned.
    pub orders: u64,
    /// Orders closed before this time were pruned: `keep_for` ago, or earlier when
    /// `keep_for` was raised (see [`Payments::prune`]).
    pub closed_before: OffsetDateTime,
}

impl fmt::Display for Pruned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} orders closed before {} pruned",
            self.orders, self.closed_before
        )
    }
}

impl<O: ServiceOrder> Payments<O> {
    /// Prunes the orders closed more than `keep_for` ago, and erases their payer's data.
    ///
    /// An order is closed once nothing can change it: paid and told to the hook
    /// ([`Event::Paid`](super::Event::Paid)), or expired past the time reconciliation asks
    /// about it; with every event for it told, no refund in doubt and nothing for a person
    /// to do ([`Payments::needing_attention`]). Its age counts from its last change (a
    /// refund made yesterday keeps a year-old order). `keep_for` is raised to at least a
    /// week, and to the time the service may still hear of an order after it closed
    /// (XorPay's notification retries, reconciliation's window after expiry, and an hour)
    /// when that is longer. Every instance on the store must share one
    /// [`ReconcilePolicy`](super::ReconcilePolicy): the window is this instance's.
    ///
    /// A pruned order leaves a tombstone: its number, XorPay's `aoid`, its price and its
    /// times stay, so the number is never checked out again
    /// ([`CheckoutError::Duplicate`](super::CheckoutError::Duplicate): XorPay would answer
    /// `order_payed` or `order_exist`); the merchant's order struct (the payer's openid and
    /// whatever else it holds) and what XorPay said of the payment (the channel's
    /// transaction number) are erased, and its events are deleted. [`Payments::order`] no
    /// longer finds it, so **it can no longer be refunded** through the service: keep
    /// orders for longer than your refund policy (WeChat Pay and Alipay take refunds of a
    /// payment for up to a year). Archive first, from your own records, what must be kept
    /// longer (your accounting).
    ///
    /// The hook closes an order (it is told), so a service whose instances have no hook
    /// never closes one: give the shop's service a hook (one that does nothing, if
    /// fulfilment happens elsewhere). The background work prunes by itself with
    /// [`PaymentsBuilder::prune_closed_after`](super::PaymentsBuilder::prune_closed_after).
    ///
    /// # Errors
    /// [`StoreError`]; what was pruned stays pruned. Safe to call again at any time, from any
    /// number of processes.
    pub async fn prune(&self, keep_for: Duration) -> Result<Pruned, StoreError> {
        self.prune_until(keep_for, || false, usize::MAX).await
    }

    /// The background work's pruning, when configured and due: stops between batches once
    /// `stop` says so.
    pub(super) async fn prune_if_due(&self, stop: impl Fn() -> bool) {
        let Some((keep_for, throttle)) = &self.inner.prune else {
            return;
        };
        if !throttle.ready() {
            return;
        }
        match self.prune_until(*keep_for, stop, SWEEP_BATCHES).await {
            // More may be left (a book pruned for the first time): the next sweep goes on,
            // after the reconciliation and the hooks it runs first.
            Ok(report) if report.orders >= (SWEEP_BATCHES * BATCH) as u64 => throttle.again(),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "pruning failed"),
        }
    }

    /// [`Payments::prune`], stopping between batches once `stop` says so, and after
    /// `batches` batches.
    async fn prune_until(
        &self,
        keep_for: Duration,
        stop: impl Fn() -> bool,
        batches: usize,
    ) -> Result<Pruned, StoreError> {
        let keep_for = keep_for
            .max(MIN_KEEP)
            .max(self.ledger().tell.may_change_for());
        let closed_before = self
            .now()
            .checked_sub(time::Duration::try_from(keep_for).unwrap_or(time::Duration::MAX))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut report = Pruned {
            orders: 0,
            closed_before,
        };
        for _ in 0..batches {
            if stop() {
                break;
            }
            let pruned = self.inner.store.prune(closed_before, BATCH).await?;
            report.orders += pruned;
            if pruned < BATCH as u64 {
                break;
            }
        }
        if report.orders > 0 {
            tracing::info!(orders = report.orders, %closed_before, "pruned closed orders");
        }
        Ok(report)
    }
}
