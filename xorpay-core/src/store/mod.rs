//! Durable orders: the [`OrderStore`] trait, the one function that turns a verified
//! notification into a paid order ([`confirm_notification`]), reconciliation, and (feature
//! `sqlite`) [`SqliteStore`].
//!
//! "Paid once, never lost" is a property of this module, not of each merchant's handler:
//!
//! - an order is stored before it is sent to XorPay ([`OrderStore::insert`]), so a fast
//!   notification always finds it (an order still `created` because its submission was
//!   never answered is confirmed with a query as well, by [`confirm_notification_with`]);
//! - Pending → Paid is one conditional write ([`OrderStore::mark_paid`]: `… WHERE state =
//!   'pending'`), so of any number of duplicate or concurrent deliveries exactly one is
//!   [`Confirmed::Newly`] paid and the others are [`Confirmed::AlreadyPaid`] (the shop's own
//!   fulfilment must be idempotent, keyed by the order number, as the next point explains);
//! - XorPay's acknowledgement ([`Acknowledgement`], HTTP 200 `ok`) can only be obtained from
//!   [`confirm_notification`], after that write has returned: a shop that dies before
//!   answering is notified again, and the retry finds the order paid.
//!
//! A notification for another order, for another amount, or that does not verify changes
//! nothing. This module does not verify signatures (see [`crate::notify`]) and does not
//! speak HTTP except through an optional [`Client`](crate::client::Client) when reconciling.

use core::fmt;
use core::future::Future;

use time::OffsetDateTime;

use crate::notify::{PaymentMismatch, VerifiedNotification};
use crate::order::{ConfirmError, Created, Expired, Order, Paid, Pending, StoredOrder};

#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// Why the store failed. Nothing was written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database refused or failed.
    #[error("order store: {0}")]
    Database(String),
    /// A stored order could not be read back (corrupt, or edited to disagree with itself).
    #[error("order store: stored order {order_id:?} is unreadable: {reason}")]
    Corrupt {
        /// The order number.
        order_id: String,
        /// What was wrong.
        reason: String,
    },
    /// An order with this number is already stored.
    #[error("order store: order {0:?} already exists")]
    Duplicate(String),
}

/// What a conditional state change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "only `Applied` means this call made the change"]
pub enum Transition {
    /// This call moved the order.
    Applied,
    /// The order was no longer in the expected state (another delivery got there first).
    NotApplied,
}

/// Where orders live between the request that creates them and the notification that pays
/// them. Implemented by [`SqliteStore`]; implement it for another database by following its
/// contract:
///
/// - a write is committed and durable when its future returns `Ok`;
/// - every `mark_*` and `update_paid` is one atomic conditional write from the state named
///   (and for `update_paid`, over an older [`Order::revision`](crate::order::Order)), whose
///   [`Transition`] says whether it applied;
/// - `load` sees only committed data.
///
/// The methods return `impl Future + Send`, so the trait is not object-safe: use it as a
/// generic bound.
pub trait OrderStore<O>: Send + Sync {
    /// Stores a new order. Call it before submitting the order.
    ///
    /// # Errors
    /// [`StoreError::Duplicate`] when the order number is taken.
    fn insert(
        &self,
        order: &Order<O, Created>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records that XorPay accepted the order: `created` → `pending`.
    fn mark_pending(
        &self,
        order: &Order<O, Pending>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Records the payment: `pending` (or `expired`: a late payment is still money
    /// received) → `paid`, in one conditional write.
    fn mark_paid(
        &self,
        order: &Order<O, Paid>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Records the expiry: `pending` → `expired`.
    fn mark_expired(
        &self,
        order: &Order<O, Expired>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Saves a paid order again after its refund record changed: `paid` → `paid`, applied
    /// only over a stored revision older than the order's, so that of two concurrent refunds
    /// begun from one load only the first is recorded.
    fn update_paid(
        &self,
        order: &Order<O, Paid>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// The order with this number, in whatever state it is.
    fn load(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<StoredOrder<O>>, StoreError>> + Send;

    /// Pending orders submitted before `cutoff`: candidates for reconciliation.
    fn pending_before(
        &self,
        cutoff: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Order<O, Pending>>, StoreError>> + Send;

    /// Every order, most recent first, at most `limit`.
    fn recent(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredOrder<O>>, StoreError>> + Send;
}

/// The answer XorPay accepts for a notification (HTTP 200, body `ok`). Only
/// [`confirm_notification`] makes one, once the order is durably paid; with feature `axum`
/// it is a response.
#[derive(Debug)]
#[must_use = "answer XorPay with it, or XorPay will notify again"]
pub struct Acknowledgement {
    _durable: (),
}

impl Acknowledgement {
    /// The body XorPay expects.
    pub const BODY: &'static str = "ok";
}

/// A notification applied to the store, with the paid order.
///
/// Fulfil the order in both cases, idempotently (keyed by its order number), then answer
/// XorPay with the acknowledgement: a shop that died after the store's write but before
/// fulfilling gets `AlreadyPaid` on XorPay's next delivery, and must still fulfil.
#[derive(Debug)]
#[must_use = "fulfil the paid order, then acknowledge"]
pub enum Confirmed<O> {
    /// This notification paid the order (of any number of deliveries, exactly one gets
    /// this).
    Newly(Order<O, Paid>, Acknowledgement),
    /// The order was already paid: a repeated or concurrent delivery.
    AlreadyPaid(Order<O, Paid>, Acknowledgement),
}

impl<O> Confirmed<O> {
    /// The paid order.
    pub fn order(&self) -> &Order<O, Paid> {
        match self {
            Confirmed::Newly(order, _) | Confirmed::AlreadyPaid(order, _) => order,
        }
    }

    /// Whether this delivery is the one that paid the order.
    pub fn is_new(&self) -> bool {
        matches!(self, Confirmed::Newly(..))
    }

    /// The paid order and the acknowledgement.
    pub fn into_parts(self) -> (Order<O, Paid>, Acknowledgement) {
        match self {
            Confirmed::Newly(order, ack) | Confirmed::AlreadyPaid(order, ack) => (order, ack),
        }
    }
}

/// Why a verified notification did not pay an order. Answer XorPay with a non-200 status.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationRefused {
    /// No order with this number is stored.
    #[error("no stored order {0:?}")]
    UnknownOrder(String),
    /// The notification does not match the stored order (another aoid or amount).
    #[error("notification for order {order_id:?} refused: {reason}")]
    Mismatch {
        /// The order number.
        order_id: String,
        /// Why.
        reason: ConfirmError,
    },
    /// The order's submission was never answered (it is still `created`), so a
    /// notification alone cannot be matched to it safely: use
    /// [`confirm_notification_with`], which asks XorPay as well.
    #[error("order {order_id:?} was never confirmed as submitted; confirm it with a query")]
    NeedsQuery {
        /// The order number.
        order_id: String,
    },
    /// The query that would confirm the order failed; XorPay will notify again.
    #[error("query to confirm the order failed: {0}")]
    Query(String),
    /// The store failed; XorPay will retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies a verified notification: the stored pending order becomes paid if, and only if,
/// the notification names its `aoid`, order number and price, in one conditional write. A
/// duplicate of a notification already applied is [`Confirmed::AlreadyPaid`].
///
/// # Errors
/// [`NotificationRefused`]; nothing was written.
pub async fn confirm_notification<O, S>(
    store: &S,
    notification: VerifiedNotification,
) -> Result<Confirmed<O>, NotificationRefused>
where
    S: OrderStore<O>,
{
    let order_id = notification.order_id().to_owned();
    let stored = store
        .load(&order_id)
        .await?
        .ok_or_else(|| NotificationRefused::UnknownOrder(order_id.clone()))?;
    let ack = || Acknowledgement { _durable: () };
    match stored {
        StoredOrder::Pending(pending) => match pending.confirm(notification) {
            Ok(paid) => record_paid(store, paid).await,
            Err(rejected) => Err(NotificationRefused::Mismatch {
                order_id,
                reason: rejected.reason().clone(),
            }),
        },
        StoredOrder::Paid(paid) => {
            // A repeat of the notification that paid it is acknowledged; anything else is not.
            let mismatch = if paid.aoid() != notification.aoid() {
                Some(PaymentMismatch::Aoid)
            } else if paid.paid_price() != notification.pay_price() {
                Some(PaymentMismatch::Amount {
                    expected: paid.paid_price(),
                    paid: notification.pay_price(),
                })
            } else {
                None
            };
            match mismatch {
                None => Ok(Confirmed::AlreadyPaid(paid, ack())),
                Some(mismatch) => Err(NotificationRefused::Mismatch {
                    order_id,
                    reason: ConfirmError::Mismatch(mismatch),
                }),
            }
        }
        // XorPay retries a notification for hours: a payment for an order that expired by
        // the clock in the meantime is still a payment.
        StoredOrder::Expired(expired) => match expired.confirm(notification) {
            Ok(paid) => record_paid(store, paid).await,
            Err(rejected) => Err(NotificationRefused::Mismatch {
                order_id,
                reason: rejected.reason().clone(),
            }),
        },
        StoredOrder::Created(_) => Err(NotificationRefused::NeedsQuery { order_id }),
    }
}

/// Like [`confirm_notification`], and for the orders a notification alone cannot pin down,
/// also asks XorPay: an order still `created` (its submission was never answered) or a
/// cashier order (whose `aoid` XorPay names only in the notification) is confirmed with the
/// notification *and* `query2`'s answer that it is paid.
///
/// # Errors
/// [`NotificationRefused`]; nothing was written.
#[cfg(feature = "client")]
pub async fn confirm_notification_with<O, S>(
    store: &S,
    client: &crate::client::Client,
    notification: VerifiedNotification,
) -> Result<Confirmed<O>, NotificationRefused>
where
    S: OrderStore<O>,
{
    let order_id = notification.order_id().to_owned();
    let stored = store
        .load(&order_id)
        .await?
        .ok_or_else(|| NotificationRefused::UnknownOrder(order_id.clone()))?;
    let needs_query = match &stored {
        StoredOrder::Created(_) => true,
        StoredOrder::Pending(pending) => pending.aoid().is_none(),
        _ => false,
    };
    if !needs_query {
        return confirm_notification(store, notification).await;
    }
    let state = client
        .query2(&order_id)
        .await
        .map_err(|error| NotificationRefused::Query(error.to_string()))?;
    let answer = crate::order::QueryAnswer::for_order_id(order_id.clone(), state);
    let paid = match stored {
        StoredOrder::Created(created) => created
            .confirm_with_query(notification, &answer)
            .map_err(|rejected| rejected.reason().clone()),
        StoredOrder::Pending(pending) => pending
            .confirm_with_query(notification, &answer)
            .map_err(|rejected| rejected.reason().clone()),
        _ => return confirm_notification(store, notification).await,
    }
    .map_err(|reason| NotificationRefused::Mismatch {
        order_id: order_id.clone(),
        reason,
    })?;
    record_paid(store, paid).await
}

/// The conditional write that makes a payment durable, and the acknowledgement that may only
/// follow it.
async fn record_paid<O, S: OrderStore<O>>(
    store: &S,
    paid: Order<O, Paid>,
) -> Result<Confirmed<O>, NotificationRefused> {
    let ack = Acknowledgement { _durable: () };
    Ok(match store.mark_paid(&paid).await? {
        Transition::Applied => Confirmed::Newly(paid, ack),
        // Another delivery of the same notification won the conditional write.
        Transition::NotApplied => Confirmed::AlreadyPaid(paid, ack),
    })
}

/// What [`reconcile`] did.
pub struct Reconciled<O> {
    /// Orders XorPay says are paid, now stored as paid: fulfil them.
    pub paid: Vec<Order<O, Paid>>,
    /// Orders XorPay says expired, now stored as expired.
    pub expired: usize,
    /// Orders still waiting.
    pub still_pending: usize,
    /// Orders that could not be queried this time (they stay pending).
    pub failed: usize,
}

impl<O> fmt::Debug for Reconciled<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconciled")
            .field("paid", &self.paid.len())
            .field("expired", &self.expired)
            .field("still_pending", &self.still_pending)
            .field("failed", &self.failed)
            .finish()
    }
}

/// Queries XorPay (`query2`) about every order still pending that was submitted before
/// `cutoff`, and stores what it says: paid, expired, or nothing new. For notifications that
/// never came. Orders still `created` are left alone: their payer never got what is needed to
/// pay, and a late notification for one is handled by [`confirm_notification_with`].
///
/// # Errors
/// [`StoreError`] when the store fails; a failed query only counts in
/// [`Reconciled::failed`].
#[cfg(feature = "client")]
pub async fn reconcile<O, S>(
    store: &S,
    client: &crate::client::Client,
    cutoff: OffsetDateTime,
) -> Result<Reconciled<O>, StoreError>
where
    S: OrderStore<O>,
{
    use crate::order::Settled;

    let mut report = Reconciled {
        paid: Vec::new(),
        expired: 0,
        still_pending: 0,
        failed: 0,
    };
    for pending in store.pending_before(cutoff).await? {
        match client.settle(pending).await {
            Ok(Settled::Paid(paid)) => {
                if store.mark_paid(&paid).await? == Transition::Applied {
                    report.paid.push(paid);
                }
            }
            Ok(Settled::Expired(expired)) => {
                if store.mark_expired(&expired).await? == Transition::Applied {
                    report.expired += 1;
                }
            }
            Ok(Settled::Pending(..)) => report.still_pending += 1,
            Err(error) => {
                tracing::warn!(error = %error.error, "reconcile: query failed");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}
