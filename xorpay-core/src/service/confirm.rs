//! Confirming a payment: XorPay's notification, verified and applied to the store, then the
//! acknowledgement XorPay waits for ([`guarantees::acknowledgement`](super::guarantees::acknowledgement)).
//!
//! In the common case (the first delivery for an order whose `aoid` XorPay named when it was
//! created) the payment is one conditional write: from `pending`, at the
//! notification's `aoid` and exact price; nothing is read. When that write does not apply,
//! the order is read back and decided on: a repeat of the payment already recorded is
//! "already paid"; an order whose `aoid` XorPay never named (a cashier order, a
//! submission whose answer was lost) is confirmed with XorPay's own answer to a query as
//! well; anything else is refused. A notification signed only with the previous secret
//! during a rotation (`Payments::builder().previous_secret(…)`) skips the single write and always needs XorPay's answer to a
//! query: a retired secret may have leaked. Only an order the store holds as paid, by this
//! payment, is ever acknowledged. Each newly recorded payment is logged at INFO with its
//! order number, `aoid` and amount.
//!
//! [`Payments::settle`] records a payment the other way: by asking XorPay about a pending
//! order at once, when the payer is back on the return page before the notification.

use time::OffsetDateTime;

use super::load::{LoadError, OrderError, check_same};
use super::reconcile::{Outcome, record_settled, settle_pending};
use super::record::{mark_paid, recorded, update_paid};
use super::{Payments, ServiceOrder};
use crate::client::ClientError;
use crate::metrics::{self, Notified};
use crate::notify::{Notification, NotificationError, VerifiedNotification};
use crate::order::{ConfirmError, Order, Paid, PaidData, Pending, QueryAnswer, StoredOrder};
use crate::store::{AoidCondition, Change, RecordState, StoreError, Transition};

/// A notification applied ([`guarantees::acknowledgement`](super::guarantees::acknowledgement)).
/// Answer XorPay with HTTP 200 and [`Confirmed::BODY`] (with feature `axum` it is a response).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "answer XorPay with it (HTTP 200, body `ok`), or it will notify again"]
pub struct Confirmed {
    order_id: String,
    newly: bool,
}

impl Confirmed {
    /// The body XorPay expects, with HTTP 200.
    pub const BODY: &'static str = "ok";

    /// The order the payment is for.
    pub fn order_id(&self) -> &str {
        &self.order_id
    }

    /// Whether this delivery is the one that paid the order (of any number of deliveries,
    /// exactly one is).
    pub fn is_new(&self) -> bool {
        self.newly
    }
}

/// Why a payment was not recorded: from a notification ([`Payments::confirm`]; answer XorPay
/// with [`NotifyError::status`], never 200, so that it notifies again), or from asking XorPay
/// ([`Payments::settle`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Not a genuine notification: malformed, or its signature does not verify with the
    /// current secret (nor with the retired one within its window). Nothing to do unless it
    /// keeps coming: then check the app secret.
    #[error(transparent)]
    Invalid(#[from] NotificationError),
    /// The stored order is not the one the payment is for: none is stored with this number
    /// (an order not checked out through this service's store), the order given disagrees
    /// with it, or another writer kept changing it.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// Genuine, but not about the stored order (another `aoid`, amount or number form).
    #[error("notification for order {order_id:?} refused: {reason}")]
    Mismatch {
        /// The order number.
        order_id: String,
        /// Why.
        reason: ConfirmError,
    },
    /// The query that had to confirm the order failed. XorPay notifies again.
    #[error("order {order_id:?}: the query to confirm it failed: {error}")]
    Query {
        /// The order number.
        order_id: String,
        /// What failed.
        error: ClientError,
    },
    /// The store failed. XorPay notifies again.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NotifyError {
    /// The HTTP status to answer XorPay with: 400 for a notification that is not genuine,
    /// 409 for one that does not fit the stored order, 503 when something failed that may
    /// pass. None is 200, so XorPay always notifies again.
    pub fn status(&self) -> u16 {
        match self {
            NotifyError::Invalid(_) => 400,
            NotifyError::Order(error) if error.is_safe_to_retry() => 503,
            NotifyError::Order(_) | NotifyError::Mismatch { .. } => 409,
            NotifyError::Query { .. } | NotifyError::Store(_) => 503,
        }
    }

    /// Whether the same notification (or settling again) may succeed later: a failure that
    /// passes, not a refusal.
    pub fn is_safe_to_retry(&self) -> bool {
        self.status() == 503
    }
}

impl NotifyError {
    /// The result a refused notification is counted under.
    fn notified(&self) -> Notified {
        match self {
            NotifyError::Invalid(NotificationError::Signature(_)) => Notified::BadSignature,
            NotifyError::Invalid(NotificationError::TooLarge { .. }) => Notified::TooLarge,
            NotifyError::Invalid(_) => Notified::Malformed,
            NotifyError::Order(OrderError::Unknown { .. }) => Notified::UnknownOrder,
            NotifyError::Order(_) => Notified::Conflict,
            // An aoid another order holds: a notification re-cut to name another order.
            NotifyError::Mismatch { .. } | NotifyError::Store(StoreError::AoidTaken { .. }) => {
                Notified::Mismatch
            }
            NotifyError::Query { .. } => Notified::QueryFailed,
            NotifyError::Store(_) => Notified::StoreError,
        }
    }
}

impl From<LoadError> for NotifyError {
    fn from(error: LoadError) -> NotifyError {
        match error {
            LoadError::Store(error) => NotifyError::Store(error),
            LoadError::Order(error) => NotifyError::Order(error),
        }
    }
}

/// How often a confirmation reads the order again after a write that did not apply.
const TRIES: usize = 3;

/// What one reading of the order decided.
enum Step<O> {
    /// Write this newly paid order over the row in the state it was read in.
    Pay(Order<O, Paid>, RecordState),
    /// Save this paid order, which learnt its `aoid`.
    Learn(Order<O, Paid>),
    /// Already paid by this payment, as stored.
    Done,
}

impl<O: ServiceOrder> Payments<O> {
    /// Applies the raw body of XorPay's notification: parses and verifies it, records the
    /// payment, and answers as [`guarantees::acknowledgement`](super::guarantees::acknowledgement)
    /// says. This is the
    /// framework-neutral call behind `Payments::router` (feature `axum`): body bytes in, the
    /// answer out.
    ///
    /// # Errors
    /// [`NotifyError`]; nothing was written. Answer with its [`NotifyError::status`].
    pub async fn confirm(&self, body: &[u8]) -> Result<Confirmed, NotifyError> {
        let result = self.apply(body).await;
        metrics::notified(match &result {
            Ok(confirmed) if confirmed.newly => Notified::Acknowledged,
            Ok(_) => Notified::Duplicate,
            Err(error) => error.notified(),
        });
        result
    }

    /// [`Payments::confirm`] without the report.
    async fn apply(&self, body: &[u8]) -> Result<Confirmed, NotifyError> {
        let (notification, trust) = self.verify(body)?;
        let now = self.now();
        let at_once = match trust {
            Trust::Current => self.pay_at_once(&notification, now).await?,
            Trust::Retired => false,
        };
        let newly = match at_once {
            true => true,
            false => self.confirm_read_back(&notification, trust, now).await?,
        };
        if newly {
            recorded(
                notification.order_id(),
                Some(notification.aoid().as_str()),
                notification.pay_price(),
            );
            self.inner.signals.wake();
        }
        Ok(Confirmed {
            order_id: notification.order_id().to_owned(),
            newly,
        })
    }

    /// Asks XorPay about a pending order now (the payer is back on the return page, before
    /// the notification) and records what it says: paid, expired, or still pending. Returns
    /// the order as stored afterwards. The copy given only names the order: the stored row
    /// decides, so a copy gone stale meanwhile is harmless.
    ///
    /// # Errors
    /// [`NotifyError::Order`] when the order is not stored or disagrees with the copy,
    /// [`NotifyError::Query`] when XorPay could not be asked (try again later; the
    /// notification or reconciliation will record it anyway), [`NotifyError::Store`].
    pub async fn settle(&self, order: Order<O, Pending>) -> Result<StoredOrder<O>, NotifyError> {
        let order_id = order.order_id().to_owned();
        let stored = self.stored(&order_id).await?;
        let StoredOrder::Pending(stored) = stored else {
            return Ok(stored);
        };
        check_same(&order, &stored)?;
        let answer =
            self.inner
                .client
                .check(&order_id)
                .await
                .map_err(|error| NotifyError::Query {
                    order_id: order_id.clone(),
                    error,
                })?;
        let now = self.now();
        let settled =
            settle_pending(stored, &answer, now).map_err(|rejected| NotifyError::Mismatch {
                order_id: order_id.clone(),
                reason: rejected.reason().clone(),
            })?;
        let outcome = record_settled(self.ledger(), settled, RecordState::Pending, now).await?;
        if let Outcome::Paid(paid) = &outcome {
            recorded(
                &order_id,
                paid.aoid().map(|aoid| aoid.as_str()),
                paid.paid_price(),
            );
            self.inner.signals.wake();
        }
        Ok(self.stored(&order_id).await?)
    }

    /// Verifies with the current secret, then with the retired one while it is accepted.
    fn verify(&self, body: &[u8]) -> Result<(VerifiedNotification, Trust), NotifyError> {
        let notification = Notification::parse(body)?;
        match notification.clone().verify(self.inner.client.secret()) {
            Err(NotificationError::Signature(error)) => match &self.inner.retired {
                Some((retired, until)) if self.now() < *until => {
                    Ok((notification.verify(retired)?, Trust::Retired))
                }
                _ => Err(NotificationError::Signature(error).into()),
            },
            result => Ok((result?, Trust::Current)),
        }
    }

    /// The common case in one round trip: a pending order whose `aoid` is the notification's,
    /// at its exact price, becomes paid. Whether this write paid it. (An expired order is
    /// read back first: the write must say which state it leaves.)
    async fn pay_at_once(
        &self,
        notification: &VerifiedNotification,
        now: OffsetDateTime,
    ) -> Result<bool, NotifyError> {
        let order_id = notification.order_id();
        let data = PaidData::by_notification(notification.aoid().clone(), notification);
        let json = serde_json::to_string(&data).map_err(|error| StoreError::Corrupt {
            order_id: order_id.to_owned(),
            reason: error.to_string(),
        })?;
        let change = Change {
            order_id,
            from: &[RecordState::Pending],
            price_fen: notification.pay_price().fen(),
            aoid: AoidCondition::Is(notification.aoid().as_str()),
            revision: None,
            to: RecordState::Paid,
            new_aoid: None,
            new_revision: 0,
            data: &json,
            submitted_at: None,
            expired_at: None,
            attention: false,
            events: &[],
            at: now,
        };
        let applied = self.inner.store.change(&change).await? == Transition::Applied;
        if applied {
            metrics::transition(RecordState::Pending.as_str(), RecordState::Paid.as_str());
        }
        Ok(applied)
    }

    /// Reads the order, decides, writes; reads again after a write that did not apply.
    /// Whether this delivery paid the order.
    async fn confirm_read_back(
        &self,
        notification: &VerifiedNotification,
        trust: Trust,
        now: OffsetDateTime,
    ) -> Result<bool, NotifyError> {
        let order_id = notification.order_id().to_owned();
        let mut answer = None;
        for _ in 0..TRIES {
            let stored = self.stored(&order_id).await?;
            if needs_query(&stored, trust) && answer.is_none() {
                let asked = self.inner.client.check(&order_id).await;
                answer = Some(asked.map_err(|error| NotifyError::Query {
                    order_id: order_id.clone(),
                    error,
                })?);
            }
            let step =
                decide(stored, notification.clone(), trust, answer.as_ref()).map_err(|reason| {
                    NotifyError::Mismatch {
                        order_id: order_id.clone(),
                        reason,
                    }
                })?;
            match step {
                Step::Done => return Ok(false),
                Step::Pay(order, from) => {
                    if mark_paid(self.ledger(), &order, from, now).await? == Transition::Applied {
                        return Ok(true);
                    }
                }
                Step::Learn(mut order) => {
                    if update_paid(self.ledger(), &mut order, &[], now).await?
                        == Transition::Applied
                    {
                        return Ok(false);
                    }
                }
            }
            // Not applied: another writer moved the order (a concurrent delivery, most
            // likely). Read it back; only what it now is decides.
        }
        Err(OrderError::changed(&order_id).into())
    }
}

/// How far a verified notification is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trust {
    /// Signed with the current secret.
    Current,
    /// Signed only with the retired secret, within its window. A secret is retired because it
    /// may have leaked, so such a notification pays nothing by itself: XorPay's own answer to
    /// a query must say the order is paid. An order already paid never learns its `aoid`
    /// from one. An unpaid order whose `aoid` XorPay never named (a cashier order) does, as
    /// it must to be refundable: whoever holds the retired secret could name an `aoid` of
    /// their choosing for it, within the window, though never one another stored order holds
    /// ([`crate::store::StoreError::AoidTaken`]). SECURITY.md lists this.
    Retired,
}

/// Whether only XorPay's answer to a query, with the notification, can pin the payment to
/// this order: XorPay has not named its `aoid`, or the notification is signed only with the
/// retired secret.
fn needs_query<O>(stored: &StoredOrder<O>, trust: Trust) -> bool {
    match stored {
        StoredOrder::Paid(_) => false,
        _ if trust == Trust::Retired => true,
        StoredOrder::Created(_) => true,
        StoredOrder::Pending(order) => order.aoid().is_none(),
        StoredOrder::Expired(order) => order.aoid().is_none(),
    }
}

/// What a verified notification does to the order as stored.
fn decide<O>(
    stored: StoredOrder<O>,
    notification: VerifiedNotification,
    trust: Trust,
    answer: Option<&QueryAnswer>,
) -> Result<Step<O>, ConfirmError> {
    let reason = |reason: &ConfirmError| reason.clone();
    let queried = trust == Trust::Retired;
    Ok(match (stored, answer) {
        (StoredOrder::Paid(mut paid), _) => {
            let had_aoid = paid.aoid().is_some();
            // A retired-secret notification is checked against a known aoid, never learnt
            // from: the order is paid already, so it is acknowledged either way.
            if had_aoid || !queried {
                paid.learn_aoid(&notification)?;
            }
            if had_aoid || queried {
                Step::Done
            } else {
                Step::Learn(paid)
            }
        }
        (StoredOrder::Pending(order), Some(answer)) if queried || order.aoid().is_none() => {
            Step::Pay(
                order
                    .confirm_with_query(notification, answer)
                    .map_err(|r| reason(r.reason()))?,
                RecordState::Pending,
            )
        }
        (StoredOrder::Pending(order), _) => Step::Pay(
            order
                .confirm(notification)
                .map_err(|r| reason(r.reason()))?,
            RecordState::Pending,
        ),
        (StoredOrder::Expired(order), Some(answer)) if queried || order.aoid().is_none() => {
            Step::Pay(
                order
                    .confirm_with_query(notification, answer)
                    .map_err(|r| reason(r.reason()))?,
                RecordState::Expired,
            )
        }
        // XorPay retries a notification for hours: a payment for an order that expired by the
        // clock in the meantime is still a payment.
        (StoredOrder::Expired(order), _) => Step::Pay(
            order
                .confirm(notification)
                .map_err(|r| reason(r.reason()))?,
            RecordState::Expired,
        ),
        (StoredOrder::Created(order), Some(answer)) => Step::Pay(
            order
                .confirm_with_query(notification, answer)
                .map_err(|r| reason(r.reason()))?,
            RecordState::Created,
        ),
        (StoredOrder::Created(_), None) => return Err(ConfirmError::AoidUnknown),
    })
}
