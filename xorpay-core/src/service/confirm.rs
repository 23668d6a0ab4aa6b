//! Confirming a payment: XorPay's notification, verified, applied to the store, and only then
//! the acknowledgement XorPay waits for.
//!
//! In the common case (the first delivery for an order whose `aoid` XorPay named when it was
//! created) the payment is one conditional write: from `pending` or `expired`, at the
//! notification's `aoid` and exact price, returning the merchant's struct. When that write
//! does not apply, the order is read back and decided on: a repeat of the payment already
//! recorded is "already paid"; an order whose `aoid` XorPay never named (a cashier order, a
//! submission whose answer was lost) is confirmed with XorPay's own answer to a query as
//! well; anything else is refused. A notification signed only with the retired secret (see
//! [`super::RetiredSecret`]) skips the single write and always needs XorPay's answer to a
//! query: a retired secret may have leaked. Only an order the store holds as paid, by this
//! payment, is ever acknowledged.

use time::OffsetDateTime;

use super::record::{self, mark_paid, update_paid};
use super::{Payments, ServiceOrder};
use crate::client::ClientError;
use crate::notify::{Notification, NotificationError, VerifiedNotification};
use crate::order::{ConfirmError, Order, Paid, PaidData, QueryAnswer, StoredOrder};
use crate::store::{AoidCondition, Change, OrderStore, RecordState, StoreError, Transition};

/// The answer XorPay accepts for a notification (HTTP 200, body `ok`). Only
/// [`Payments::confirm`] makes one, once the order is durably paid; with feature `axum` it
/// is a response.
#[derive(Debug)]
#[must_use = "answer XorPay with it, or XorPay will notify again"]
pub struct Acknowledgement {
    _durable: (),
}

impl Acknowledgement {
    /// The body XorPay expects.
    pub const BODY: &'static str = "ok";
}

/// A notification applied: the paid order, whether this delivery paid it, and the
/// acknowledgement for XorPay.
#[derive(Debug)]
#[must_use = "answer XorPay with the acknowledgement, or it will notify again"]
pub struct Confirmed<O> {
    order: Order<O, Paid>,
    newly: bool,
    ack: Acknowledgement,
}

impl<O> Confirmed<O> {
    /// The paid order.
    pub fn order(&self) -> &Order<O, Paid> {
        &self.order
    }

    /// Whether this delivery is the one that paid the order (of any number of deliveries,
    /// exactly one is).
    pub fn is_new(&self) -> bool {
        self.newly
    }

    /// The paid order and the acknowledgement.
    pub fn into_parts(self) -> (Order<O, Paid>, Acknowledgement) {
        (self.order, self.ack)
    }
}

/// Why a notification did not pay an order. Answer XorPay with a non-200 status
/// ([`NotifyError::status`]), so that it notifies again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Not a genuine notification: malformed, or its signature does not verify with the
    /// current secret (nor with the retired one within its window). Nothing to do unless it
    /// keeps coming: then check the app secret.
    #[error(transparent)]
    Invalid(#[from] NotificationError),
    /// No order with this number is stored.
    #[error("no stored order {0:?}")]
    UnknownOrder(String),
    /// Genuine, but not about the stored order (another `aoid`, amount or number form).
    #[error("notification for order {order_id:?} refused: {reason}")]
    Mismatch {
        /// The order number.
        order_id: String,
        /// Why.
        reason: ConfirmError,
    },
    /// The query that had to confirm the order (its `aoid` was never named) failed. XorPay
    /// notifies again.
    #[error("order {order_id:?}: the query to confirm it failed: {error}")]
    Query {
        /// The order number.
        order_id: String,
        /// What failed.
        error: ClientError,
    },
    /// The store's conditional write did not apply, and reading the order back did not show
    /// it paid by this payment (its row changed on every try, or disagrees with itself).
    /// XorPay notifies again.
    #[error("order {order_id:?}: the store did not record the payment")]
    NotRecorded {
        /// The order number.
        order_id: String,
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
            NotifyError::UnknownOrder(_) | NotifyError::Mismatch { .. } => 409,
            NotifyError::Query { .. } | NotifyError::NotRecorded { .. } | NotifyError::Store(_) => {
                503
            }
        }
    }

    /// Whether the same notification may succeed later (XorPay retries it): a failure that
    /// passes, not a refusal.
    pub fn is_safe_to_retry(&self) -> bool {
        self.status() == 503
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
    Done(Order<O, Paid>),
}

impl<O: ServiceOrder, S: OrderStore> Payments<O, S> {
    /// Applies the raw body of XorPay's notification: parses and verifies it, records the
    /// payment, and gives the acknowledgement only once the write is durable. Duplicate and
    /// concurrent deliveries are all acknowledged; exactly one [`Confirmed::is_new`].
    ///
    /// # Errors
    /// [`NotifyError`]; nothing was written. Answer with its [`NotifyError::status`].
    pub async fn confirm(&self, body: &[u8]) -> Result<Confirmed<O>, NotifyError> {
        let (notification, trust) = self.verify(body)?;
        let now = self.now();
        let at_once = match trust {
            Trust::Current => self.pay_at_once(&notification, now).await?,
            Trust::Retired => None,
        };
        let confirmed = match at_once {
            Some(order) => Confirmed {
                order,
                newly: true,
                ack: Acknowledgement { _durable: () },
            },
            None => self.confirm_read_back(notification, trust, now).await?,
        };
        if confirmed.newly {
            self.inner.paid.notify_one();
        }
        Ok(confirmed)
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

    /// The common case in one round trip: a pending (or expired) order whose `aoid` is the
    /// notification's, at its exact price, becomes paid.
    async fn pay_at_once(
        &self,
        notification: &VerifiedNotification,
        now: OffsetDateTime,
    ) -> Result<Option<Order<O, Paid>>, NotifyError> {
        let order_id = notification.order_id();
        let data = PaidData::by_notification(notification.aoid().clone(), notification);
        let json = serde_json::to_string(&data).map_err(|error| StoreError::Corrupt {
            order_id: order_id.to_owned(),
            reason: error.to_string(),
        })?;
        let change = Change {
            order_id,
            from: &[RecordState::Pending, RecordState::Expired],
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
            at: now,
        };
        let Some(struct_json) = self.inner.store.change(&change).await? else {
            return Ok(None);
        };
        let corrupt = |reason: String| StoreError::Corrupt {
            order_id: order_id.to_owned(),
            reason,
        };
        let order: O = serde_json::from_str(&struct_json).map_err(|e| corrupt(e.to_string()))?;
        let paid = Order::from_recorded_payment(order, data).map_err(corrupt)?;
        Ok(Some(paid))
    }

    /// Reads the order, decides, writes; reads again after a write that did not apply.
    async fn confirm_read_back(
        &self,
        notification: VerifiedNotification,
        trust: Trust,
        now: OffsetDateTime,
    ) -> Result<Confirmed<O>, NotifyError> {
        let order_id = notification.order_id().to_owned();
        let store = &self.inner.store;
        let mut answer = None;
        for _ in 0..TRIES {
            let record = store
                .load(&order_id)
                .await?
                .ok_or_else(|| NotifyError::UnknownOrder(order_id.clone()))?;
            let stored = record::typed::<O>(&record)?;
            if needs_query(&stored, trust) && answer.is_none() {
                let state = self.inner.client.query2(&order_id).await.map_err(|error| {
                    NotifyError::Query {
                        order_id: order_id.clone(),
                        error,
                    }
                })?;
                answer = Some(QueryAnswer::for_order_id(order_id.clone(), state));
            }
            let ack = Acknowledgement { _durable: () };
            let step =
                decide(stored, notification.clone(), trust, answer.as_ref()).map_err(|reason| {
                    NotifyError::Mismatch {
                        order_id: order_id.clone(),
                        reason,
                    }
                })?;
            match step {
                Step::Done(order) => {
                    return Ok(Confirmed {
                        order,
                        newly: false,
                        ack,
                    });
                }
                Step::Pay(order, from) => {
                    if mark_paid(store, &order, from, now).await? == Transition::Applied {
                        return Ok(Confirmed {
                            order,
                            newly: true,
                            ack,
                        });
                    }
                }
                Step::Learn(mut order) => {
                    if update_paid(store, &mut order, now).await? == Transition::Applied {
                        return Ok(Confirmed {
                            order,
                            newly: false,
                            ack,
                        });
                    }
                }
            }
            // Not applied: another writer moved the order (a concurrent delivery, most
            // likely). Read it back; only what it now is decides.
        }
        Err(NotifyError::NotRecorded { order_id })
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
                Step::Done(paid)
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
