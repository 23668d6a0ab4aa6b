//! Reconciliation: asking XorPay about every stored order whose fate the store cannot know on
//! its own, and recording what XorPay says.
//!
//! Notifications can fail for hours, and answers can be lost after XorPay acted. So
//! [`Payments::reconcile`] looks at three kinds of order:
//!
//! - **submissions in doubt**: orders still `created` a while after they were stored. Their
//!   request may have reached XorPay with its answer lost (a barcode payment charges the
//!   payer's code at once). XorPay is asked with `query2`: paid → recorded paid (without an
//!   `aoid`, which only the notification tells); unpaid or unknown → settled as
//!   [`guarantees::one_live_order`](super::guarantees::one_live_order) says.
//! - **stale pending orders**, whose notification never came.
//! - **expired orders within the grace window**: the merchant's clock expired them, but a
//!   payer may have paid at the last moment, and XorPay retries its notification for about
//!   6.5 hours ([`NOTIFY_RETRY_SPAN`]).
//!
//! `fee_error` (the payer paid; XorPay could not take its fee from the merchant's prepaid
//! balance) is reported on its own and logged at warn: the merchant must top the balance up.
//! An order that stays open is asked about again later, less often the older it is.

use core::fmt;
use core::time::Duration;

use time::OffsetDateTime;

use super::clock::before;
use super::reconcile_policy::NOTIFY_RETRY_SPAN;
use super::record::{self, Ledger, mark_expired, mark_paid, mark_pending, recorded};
use super::{Payments, ServiceOrder};
use crate::client::{ClientError, SendError};
use crate::metrics::{Reconciled as Counted, reconciled};
use crate::order::{
    Abandoned, Created, Expired, Expiry, Order, Paid, Pending, QueryAnswer, Rejected, Settled,
    State, StoredOrder,
};
use crate::status::{ApiError, OrderState};
use crate::store::{RecordState, StoreError, Transition};

/// What [`Payments::reconcile`] did.
pub struct Reconciled<O> {
    /// Orders XorPay says are paid, now stored as paid (the fulfilment sweep hands them to
    /// the hook).
    pub paid: Vec<Order<O, Paid>>,
    /// Submissions in doubt that XorPay holds unpaid, re-submitted and now pending.
    pub recovered: usize,
    /// Orders now stored as expired (XorPay says so, or refused them for good).
    pub expired: usize,
    /// Orders the payer paid but whose fee XorPay could not take (`fee_error`): top up the
    /// prepaid balance in XorPay's dashboard.
    pub fee_error: Vec<String>,
    /// Orders still open (unpaid, or a barcode waiting for its payer): asked about later.
    pub open: usize,
    /// Orders whose query failed this time: asked about again later.
    pub failed: usize,
}

impl<O> fmt::Debug for Reconciled<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconciled")
            .field("paid", &self.paid.len())
            .field("recovered", &self.recovered)
            .field("expired", &self.expired)
            .field("fee_error", &self.fee_error)
            .field("open", &self.open)
            .field("failed", &self.failed)
            .finish()
    }
}

/// What asking about one order did.
pub(super) enum Outcome<O> {
    Paid(Order<O, Paid>),
    Pending(Order<O, Pending>),
    Expired,
    FeeError,
    /// Nothing to record: XorPay holds it unpaid (or a barcode waits for its payer).
    Open,
    /// The query (or the re-submission) failed.
    Failed,
    /// Another writer moved the order first.
    Superseded,
}

impl<O: ServiceOrder> Payments<O> {
    /// Asks XorPay about every order whose fate the store cannot know, and stores what it
    /// says. The service's background work calls it every `sweep_every`; an order that stays
    /// open is asked about less often the older it is. It looks at:
    ///
    /// - **submissions in doubt**: orders still `created` a while after they were stored,
    ///   whose request may have reached XorPay with its answer lost (a barcode payment
    ///   charges the payer's code at once). `query2` says paid → recorded paid, without an
    ///   `aoid` until the notification names it; unpaid or unknown → the identical request is
    ///   sent again, which recovers the `aoid` and what the payer needs (identical
    ///   re-submission is *presumed* allowed, docs/protocol.md §3.6, an inference XorPay never
    ///   confirmed; a different one would be `order_exist`, so one order number never has two
    ///   live orders). An order XorPay refuses for good is given up (expired, so a late
    ///   payment would still be recorded). A barcode order is never sent twice.
    /// - **stale pending orders**, whose notification never came.
    /// - **expired orders within [`ReconcilePolicy::expired_grace`](super::ReconcilePolicy::expired_grace)**: the merchant's clock
    ///   expired them, but a payer may have paid at the last moment, and XorPay retries its
    ///   notification for about 6.5 hours.
    ///
    /// `fee_error` (the payer paid; XorPay could not take its fee from the merchant's
    /// prepaid balance) is reported in [`Reconciled::fee_error`] and logged at warn.
    ///
    /// The background work calls it every `sweep_every`; call it yourself only with
    /// `.no_background()`.
    ///
    /// # Errors
    /// [`StoreError`] when the store fails; a failed query only counts in
    /// [`Reconciled::failed`]. Safe to call again at any time.
    pub async fn reconcile(&self) -> Result<Reconciled<O>, StoreError> {
        self.reconcile_until(|| false, |_, _| {}).await
    }

    /// [`Payments::reconcile`], telling `progress` how many of the due orders are done.
    #[cfg(feature = "cli")]
    pub(crate) async fn reconcile_with_progress(
        &self,
        progress: impl Fn(usize, usize),
    ) -> Result<Reconciled<O>, StoreError> {
        self.reconcile_until(|| false, progress).await
    }

    /// [`Payments::reconcile`], asking about nothing more once `stop` says so, and telling
    /// `progress` (done, due) after each order.
    pub(super) async fn reconcile_until(
        &self,
        stop: impl Fn() -> bool,
        progress: impl Fn(usize, usize),
    ) -> Result<Reconciled<O>, StoreError> {
        let pass = self.reconcile_pass(stop, progress).await;
        // However the pass ended: the gauges must not freeze while the database fails.
        self.read_gauges().await;
        pass
    }

    /// [`Payments::reconcile_until`] without the gauges.
    async fn reconcile_pass(
        &self,
        stop: impl Fn() -> bool,
        progress: impl Fn(usize, usize),
    ) -> Result<Reconciled<O>, StoreError> {
        let now = self.now();
        let policy = self.inner.reconcile;
        let store = &self.inner.store;
        let mut report = Reconciled {
            paid: Vec::new(),
            recovered: 0,
            expired: 0,
            fee_error: Vec::new(),
            open: 0,
            failed: 0,
        };
        let grace = policy.expired_grace.max(NOTIFY_RETRY_SPAN);
        let candidates = store
            .due_for_check(
                now,
                before(now, policy.stale_after),
                before(now, grace),
                policy.batch,
            )
            .await?;
        let due = candidates.len();
        for (done, candidate) in candidates.into_iter().enumerate() {
            progress(done, due);
            if stop() {
                break;
            }
            let stored = match record::typed::<O>(&candidate) {
                Ok(stored) => stored,
                Err(error) => {
                    // Logged, and put back like an order whose query failed, so that it does
                    // not stand first in every batch.
                    tracing::error!(order_id = candidate.order_id, %error, "reconcile: unreadable order");
                    report.failed += 1;
                    reconciled(Counted::Failed, 1);
                    let age = now - candidate.created_at;
                    store
                        .check_again_at(&candidate.order_id, now + backoff(age))
                        .await?;
                    continue;
                }
            };
            let order_id = stored.order_id().to_owned();
            let since = since(&stored, now);
            let outcome = match stored {
                // The store names created orders older than `stale_after` only.
                StoredOrder::Created(order) => self.settle_created(order, now, true).await?,
                StoredOrder::Pending(order) => {
                    self.settle_known(order, RecordState::Pending, |order, answer| {
                        settle_pending(order, answer, now)
                    })
                    .await?
                }
                StoredOrder::Expired(order) => {
                    self.settle_known(order, RecordState::Expired, Order::<O, Expired>::settle)
                        .await?
                }
                StoredOrder::Paid(_) => continue,
            };
            // A moved order starts afresh (its next check is cleared with its state); one
            // still open is asked about again later.
            let still_open = match outcome {
                Outcome::Paid(paid) => {
                    recorded(
                        paid.order_id(),
                        paid.aoid().map(|aoid| aoid.as_str()),
                        paid.paid_price(),
                    );
                    report.paid.push(paid);
                    reconciled(Counted::Paid, 1);
                    false
                }
                Outcome::Pending(_) => {
                    report.recovered += 1;
                    reconciled(Counted::Recovered, 1);
                    false
                }
                Outcome::Expired => {
                    report.expired += 1;
                    reconciled(Counted::Expired, 1);
                    false
                }
                Outcome::Superseded => {
                    reconciled(Counted::Superseded, 1);
                    false
                }
                Outcome::FeeError => {
                    // The payer paid: a person must act (top up, then it is paid).
                    let _ = record::flag_attention(self.ledger(), &candidate, now).await?;
                    report.fee_error.push(order_id.clone());
                    reconciled(Counted::FeeError, 1);
                    true
                }
                Outcome::Open => {
                    report.open += 1;
                    reconciled(Counted::Open, 1);
                    true
                }
                Outcome::Failed => {
                    report.failed += 1;
                    reconciled(Counted::Failed, 1);
                    true
                }
            };
            if still_open {
                store
                    .check_again_at(&order_id, now + backoff(now - since))
                    .await?;
            }
        }
        progress(due, due);
        if !report.paid.is_empty() {
            self.inner.signals.wake();
        }
        Ok(report)
    }

    /// Settles an order whose submission was never answered: `query2`, then records paid,
    /// re-submits the identical request, or gives it up (see the module docs: submissions in
    /// doubt). `stale`: it was stored longer ago than any request takes, so no request for
    /// it can still be under way.
    pub(super) async fn settle_created(
        &self,
        order: Order<O, Created>,
        now: OffsetDateTime,
        stale: bool,
    ) -> Result<Outcome<O>, StoreError> {
        let client = &self.inner.client;
        let answer = match client.check(order.order_id()).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(order_id = order.order_id(), %error, "submission in doubt: query failed");
                return Ok(Outcome::Failed);
            }
        };
        let Ok(settled) = order.settle(&answer, now) else {
            return Ok(Outcome::Failed);
        };
        let (order, state) = match settled {
            Settled::Unchanged(order, state) => (order, state),
            settled => {
                return record_settled(self.ledger(), settled, RecordState::Created, now).await;
            }
        };
        let failed = match client.resend(order, now).await {
            Ok(pending) => {
                return Ok(match mark_pending(self.ledger(), &pending, now).await? {
                    Transition::Applied => Outcome::Pending(pending),
                    Transition::NotApplied => Outcome::Superseded,
                });
            }
            Err(failed) => failed,
        };
        let give_up = match &failed.error {
            // A barcode order is never sent twice. One XorPay does not know is given up once
            // no request for it can still be under way (its code is single-use and
            // short-lived); one waiting for its payer is asked about later.
            SendError::NotResent if stale && state == OrderState::NotExist => {
                Some(Abandoned::NeverPaid)
            }
            // XorPay refuses the identical request for good: it will never be created as it is.
            SendError::Client(ClientError::Api(error)) if refuses_for_good(error) => {
                Some(Abandoned::Refused)
            }
            _ => None,
        };
        let Some(why) = give_up else {
            tracing::warn!(
                order_id = failed.order.order_id(),
                error = %failed.error,
                "submission in doubt: not re-sent this time"
            );
            return Ok(match failed.error {
                SendError::NotResent => Outcome::Open,
                _ => Outcome::Failed,
            });
        };
        let abandoned = failed.order.abandon(now, why);
        let settled = Settled::<O, Created>::Expired(abandoned);
        record_settled(self.ledger(), settled, RecordState::Created, now).await
    }

    /// Queries a pending or expired order and records the answer.
    async fn settle_known<T: State>(
        &self,
        order: Order<O, T>,
        from: RecordState,
        settle: impl FnOnce(Order<O, T>, &QueryAnswer) -> Result<Settled<O, T>, Rejected<O, T>>,
    ) -> Result<Outcome<O>, StoreError> {
        let answer = match self.inner.client.check(order.order_id()).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(order_id = order.order_id(), %error, "reconcile: query failed");
                return Ok(Outcome::Failed);
            }
        };
        match settle(order, &answer) {
            Ok(settled) => record_settled(self.ledger(), settled, from, self.now()).await,
            Err(_) => Ok(Outcome::Failed),
        }
    }
}

/// Moves a pending order on by XorPay's answer. XorPay does not know an order whose lifetime
/// has passed (a cashier page never opened): it expires by the clock, or it would be asked
/// about forever.
pub(super) fn settle_pending<O>(
    order: Order<O, Pending>,
    answer: &QueryAnswer,
    now: OffsetDateTime,
) -> Result<Settled<O>, Rejected<O>> {
    match order.settle(answer)? {
        Settled::Unchanged(order, OrderState::NotExist) => match order.expire(now) {
            Expiry::Expired(expired) => Ok(Settled::Expired(expired)),
            Expiry::NotYet(order) => Ok(Settled::Unchanged(order, OrderState::NotExist)),
        },
        settled => Ok(settled),
    }
}

/// Stores what XorPay's answer moved an order, read in state `from`, to.
pub(super) async fn record_settled<O, T: State>(
    ledger: Ledger<'_>,
    settled: Settled<O, T>,
    from: RecordState,
    now: OffsetDateTime,
) -> Result<Outcome<O>, StoreError> {
    let applied = |transition| transition == Transition::Applied;
    Ok(match settled {
        Settled::Paid(paid) => match applied(mark_paid(ledger, &paid, from, now).await?) {
            true => Outcome::Paid(paid),
            false => Outcome::Superseded,
        },
        Settled::Expired(expired) => {
            match applied(mark_expired(ledger, &expired, from, now).await?) {
                true => Outcome::Expired,
                false => Outcome::Superseded,
            }
        }
        Settled::FeeError(_) => Outcome::FeeError,
        Settled::Unchanged(..) => Outcome::Open,
    })
}

/// The refusals of a create request that no identical request can overcome. Not those whose
/// outcome is unknown (an undocumented code), not `order_payed` or `order_expire` (the next
/// query records them), not those that pass (`fee_error`, risk control).
pub(super) fn refuses_for_good(error: &ApiError) -> bool {
    matches!(
        error,
        ApiError::OrderExist
            | ApiError::SignError
            | ApiError::MissingArgument
            | ApiError::AidNotExist
            | ApiError::InvalidOpenid
            | ApiError::PayTypeError
    )
}

/// When an order's clock started: submitted or expired (`now` for an order still created).
fn since<O>(stored: &StoredOrder<O>, now: OffsetDateTime) -> OffsetDateTime {
    match stored {
        StoredOrder::Pending(order) => order.submitted_at(),
        StoredOrder::Expired(order) => order.expired_at(),
        StoredOrder::Created(_) | StoredOrder::Paid(_) => now,
    }
}

/// How long until an open order is asked about again: an eighth of its age, between 30
/// seconds and 30 minutes.
fn backoff(age: time::Duration) -> Duration {
    let age = Duration::try_from(age).unwrap_or_default();
    (age / 8).clamp(Duration::from_secs(30), Duration::from_secs(30 * 60))
}
