//! Durable orders: the [`OrderStore`] trait, the one function that turns a verified
//! notification into a paid order ([`confirm_notification`]), reconciliation
//! ([`reconcile`], feature `client`), and (feature `sqlite`) [`SqliteStore`].
//!
//! "Paid once, never lost" is a property of this module, not of each merchant's handler:
//!
//! - an order is stored before it is sent to XorPay ([`OrderStore::insert`]), so a fast
//!   notification always finds it (an order still `created` because its submission was
//!   never answered is confirmed with a query as well, by [`confirm_notification_with`]);
//! - Pending → Paid is one conditional write ([`OrderStore::mark_paid`]: `… WHERE state IN
//!   ('created', 'pending', 'expired')`), so of any number of duplicate or concurrent
//!   deliveries exactly one is [`Confirmed::Newly`] paid and the others are
//!   [`Confirmed::AlreadyPaid`] (the shop's own fulfilment must be idempotent, keyed by the
//!   order number, as the next point explains);
//! - a write that does not apply is never taken for "already paid": the order is read back,
//!   and only an order the store really holds as paid, by this very payment, is
//!   acknowledged;
//! - XorPay's acknowledgement ([`Acknowledgement`], HTTP 200 `ok`) can only be obtained from
//!   [`confirm_notification`], after that write has returned: a shop that dies before
//!   answering is notified again, and the retry finds the order paid;
//! - a paid order's refund record is saved with a compare-and-set on the revision the copy
//!   was read at ([`OrderStore::update_paid`]), so two copies can never both record a
//!   refund, nor an old copy overwrite a newer save.
//!
//! A notification for another order, for another amount, or that does not verify changes
//! nothing. This module does not verify signatures (see [`crate::notify`]) and does not
//! speak HTTP except through a [`Client`](crate::client::Client) when reconciling.

use core::future::Future;

use time::OffsetDateTime;

use crate::notify::VerifiedNotification;
use crate::order::{ConfirmError, Created, Expired, Order, Paid, Pending, StoredOrder};

#[cfg(feature = "client")]
mod reconcile;
#[cfg(feature = "client")]
mod refund;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "client")]
pub use reconcile::{
    NOTIFY_RETRY_SPAN, ReconcilePolicy, Reconciled, Submission, reconcile, settle_submission,
};
#[cfg(feature = "client")]
pub use refund::{RefundError, RefundOutcome, ResolveError, refund, resolve};
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
    /// The order was no longer as expected (another writer got there first): read it back
    /// before concluding anything.
    NotApplied,
}

/// Where orders live between the request that creates them and the notification that pays
/// them. Implemented by [`SqliteStore`]; implement it for another database by following its
/// contract:
///
/// - a write is committed and durable when its future returns `Ok`;
/// - every `mark_*` is one atomic conditional write from the states named, at the stored
///   price and `aoid` (when both sides know one), whose [`Transition`] says whether it
///   applied;
/// - `update_paid` applies only over a row whose revision is exactly the copy's
///   [`Order::loaded_revision`], writes [`Order::revision`], and then calls the copy's
///   `__saved()`;
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

    /// Records the payment: `created` (a submission whose answer was lost), `pending`, or
    /// `expired` (a late payment is still money received) → `paid`, in one conditional
    /// write.
    fn mark_paid(
        &self,
        order: &Order<O, Paid>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Records the expiry: `created` (XorPay never had it) or `pending` → `expired`.
    fn mark_expired(
        &self,
        order: &Order<O, Expired>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// Saves a paid order again after its record changed (a refund begun or settled, its
    /// `aoid` learnt): `paid` → `paid`, applied only over a row still at the revision the
    /// copy was read at ([`Order::loaded_revision`]), so that of two copies read at once only
    /// the first to save is recorded. When it applies, the copy is marked saved, so that it
    /// can change and be saved again.
    fn update_paid(
        &self,
        order: &mut Order<O, Paid>,
    ) -> impl Future<Output = Result<Transition, StoreError>> + Send;

    /// The order with this number, in whatever state it is.
    fn load(
        &self,
        order_id: &str,
    ) -> impl Future<Output = Result<Option<StoredOrder<O>>, StoreError>> + Send;

    /// The orders reconciliation should ask XorPay about at `now`, oldest first, at most
    /// `limit`: `created` ones stored before `stale_before` (their submission was never
    /// answered), `pending` ones submitted before it, and `expired` ones that expired at or
    /// after `expired_since` (XorPay may still deliver a late payment), each only once the
    /// time set by [`OrderStore::check_again_at`] has come.
    fn due_for_check(
        &self,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
        expired_since: OffsetDateTime,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredOrder<O>>, StoreError>> + Send;

    /// Leaves the order out of [`OrderStore::due_for_check`] until `at`.
    fn check_again_at(
        &self,
        order_id: &str,
        at: OffsetDateTime,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every order, by order number, after `after` (exclusive; `None` from the start), at
    /// most `limit`: page through all of them by passing the last number seen.
    fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<StoredOrder<O>>, StoreError>> + Send;

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
    /// The order was already paid, as the store holds it: a repeated or concurrent delivery,
    /// or one for an order reconciliation had found paid.
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
    /// XorPay has not named the stored order's `aoid` (a cashier order, or a submission whose
    /// answer was lost), so a notification alone cannot be matched to it safely: use
    /// [`confirm_notification_with`], which asks XorPay as well.
    #[error("order {order_id:?} has no known aoid; confirm it with a query")]
    NeedsQuery {
        /// The order number.
        order_id: String,
    },
    /// The query that would confirm the order failed; XorPay will notify again.
    #[error("query to confirm the order failed: {0}")]
    Query(String),
    /// The store's conditional write did not apply, and reading the order back did not show
    /// it paid by this payment (its row changed on every try, or disagrees with itself).
    /// Nothing is acknowledged; XorPay will notify again.
    #[error("order {order_id:?}: the store did not record the payment")]
    NotRecorded {
        /// The order number.
        order_id: String,
    },
    /// The store failed; XorPay will retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often a confirmation reads the order again after a write that did not apply.
const CONFIRM_TRIES: usize = 3;

/// Applies a verified notification: the stored order becomes paid if, and only if, the
/// notification names its `aoid`, order number and price, in one conditional write. A
/// duplicate of a notification already applied is [`Confirmed::AlreadyPaid`]; an order that
/// a query proved paid learns its `aoid` from it.
///
/// # Errors
/// [`NotificationRefused`]; nothing was written. An order whose `aoid` XorPay never named is
/// [`NotificationRefused::NeedsQuery`]: use [`confirm_notification_with`].
pub async fn confirm_notification<O, S>(
    store: &S,
    notification: VerifiedNotification,
) -> Result<Confirmed<O>, NotificationRefused>
where
    S: OrderStore<O>,
{
    let stored = load(store, notification.order_id()).await?;
    confirm(store, notification, stored, None).await
}

/// Like [`confirm_notification`], and for the orders a notification alone cannot pin down,
/// also asks XorPay: an order still `created` (its submission was never answered), or a
/// cashier order pending or expired (whose `aoid` XorPay names only in the notification), is
/// confirmed with the notification *and* `query2`'s answer that it is paid.
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
    let stored = load(store, &order_id).await?;
    // An order only ever learns its aoid, so one that needs no query now never will.
    let answer = match needs_query(&stored) {
        true => Some(
            client
                .query2(&order_id)
                .await
                .map(|state| crate::order::QueryAnswer::for_order_id(order_id, state))
                .map_err(|error| NotificationRefused::Query(error.to_string()))?,
        ),
        false => None,
    };
    confirm(store, notification, stored, answer).await
}

async fn load<O, S: OrderStore<O>>(
    store: &S,
    order_id: &str,
) -> Result<StoredOrder<O>, NotificationRefused> {
    store
        .load(order_id)
        .await?
        .ok_or_else(|| NotificationRefused::UnknownOrder(order_id.to_owned()))
}

/// Whether only XorPay's answer to a query, with the notification, can pin the payment to
/// this order: XorPay has not named its `aoid`.
fn needs_query<O>(stored: &StoredOrder<O>) -> bool {
    match stored {
        StoredOrder::Created(_) => true,
        StoredOrder::Pending(order) => order.aoid().is_none(),
        StoredOrder::Expired(order) => order.aoid().is_none(),
        StoredOrder::Paid(_) => false,
    }
}

/// What one read of the store decided.
enum Step<O> {
    /// Write this newly paid order.
    Pay(Order<O, Paid>),
    /// Save this paid order, which learnt its `aoid`.
    Learn(Order<O, Paid>),
    /// Already paid by this payment, as stored.
    Done(Order<O, Paid>),
}

/// Decides on `stored`, writes, and after a write that did not apply reads the order again:
/// only what the store then holds decides.
async fn confirm<O, S>(
    store: &S,
    notification: VerifiedNotification,
    mut stored: StoredOrder<O>,
    answer: Option<crate::order::QueryAnswer>,
) -> Result<Confirmed<O>, NotificationRefused>
where
    S: OrderStore<O>,
{
    let order_id = notification.order_id().to_owned();
    for _ in 0..CONFIRM_TRIES {
        if needs_query(&stored) && answer.is_none() {
            return Err(NotificationRefused::NeedsQuery { order_id });
        }
        let ack = Acknowledgement { _durable: () };
        match decide(stored, notification.clone(), answer.as_ref()) {
            Err(reason) => return Err(NotificationRefused::Mismatch { order_id, reason }),
            Ok(Step::Done(paid)) => return Ok(Confirmed::AlreadyPaid(paid, ack)),
            Ok(Step::Pay(paid)) => {
                if store.mark_paid(&paid).await? == Transition::Applied {
                    return Ok(Confirmed::Newly(paid, ack));
                }
            }
            Ok(Step::Learn(mut paid)) => {
                if store.update_paid(&mut paid).await? == Transition::Applied {
                    return Ok(Confirmed::AlreadyPaid(paid, ack));
                }
            }
        }
        // Not applied: another writer moved the order (a concurrent delivery, most likely).
        stored = load(store, &order_id).await?;
    }
    Err(NotificationRefused::NotRecorded { order_id })
}

/// What a verified notification does to the order as stored.
fn decide<O>(
    stored: StoredOrder<O>,
    notification: VerifiedNotification,
    answer: Option<&crate::order::QueryAnswer>,
) -> Result<Step<O>, ConfirmError> {
    Ok(match (stored, answer) {
        (StoredOrder::Paid(mut paid), _) => {
            let had_aoid = paid.aoid().is_some();
            paid.learn_aoid(&notification)?;
            if had_aoid {
                Step::Done(paid)
            } else {
                Step::Learn(paid)
            }
        }
        (StoredOrder::Pending(order), Some(answer)) if order.aoid().is_none() => Step::Pay(
            order
                .confirm_with_query(notification, answer)
                .map_err(|r| r.reason().clone())?,
        ),
        (StoredOrder::Pending(order), _) => Step::Pay(
            order
                .confirm(notification)
                .map_err(|r| r.reason().clone())?,
        ),
        (StoredOrder::Expired(order), Some(answer)) if order.aoid().is_none() => Step::Pay(
            order
                .confirm_with_query(notification, answer)
                .map_err(|r| r.reason().clone())?,
        ),
        // XorPay retries a notification for hours: a payment for an order that expired by the
        // clock in the meantime is still a payment.
        (StoredOrder::Expired(order), _) => Step::Pay(
            order
                .confirm(notification)
                .map_err(|r| r.reason().clone())?,
        ),
        (StoredOrder::Created(order), Some(answer)) => Step::Pay(
            order
                .confirm_with_query(notification, answer)
                .map_err(|r| r.reason().clone())?,
        ),
        (StoredOrder::Created(_), None) => return Err(ConfirmError::AoidUnknown),
    })
}
