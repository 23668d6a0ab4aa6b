//! Checkout: store the order, send it to XorPay, record it pending. An answer that is lost
//! leaves the order in doubt, settled at once if XorPay can be asked (`query2`, then the
//! identical request), and by reconciliation otherwise. A repeated checkout of the same order
//! (a double click, a retried request) finds the first.

use super::reconcile::{Outcome, refuses_for_good};
use super::record::{self, mark_expired, mark_pending};
use super::{Payments, ServiceOrder};
use crate::client::{ClientError, SendError};
use crate::order::{Abandoned, Created, Order, Paid, Pending, StoredOrder};
use crate::price::Price;
use crate::request::{RequestError, order_facts};
use crate::status::ApiError;
use crate::store::{Record, RecordState, StoreError, Transition};

/// Where a checkout left the order.
#[derive(Debug)]
#[must_use = "show the payer what to pay with"]
pub enum Checkout<O> {
    /// Accepted by XorPay: show the payer what to pay with ([`Order::payment`]: a QR text,
    /// the JSAPI parameters, the cashier page to send their browser to, or a barcode's first
    /// answer).
    Pending(Order<O, Pending>),
    /// Already paid: a repeated checkout, or a notification faster than XorPay's answer.
    Paid(Order<O, Paid>),
}

/// Why a checkout did not give the payer something to pay with. Each says whether calling
/// [`Payments::checkout`] again with the same order is safe ([`CheckoutError::is_safe_to_retry`])
/// and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckoutError {
    /// The order holds a value XorPay would refuse, or a `notify_url` of its own that is not
    /// the service's; nothing was stored or sent. Fix the order.
    #[error("the order cannot be sent: {0}")]
    Invalid(#[from] RequestError),
    /// The merchant declared a personal account
    /// (`Payments::builder().personal_account()`), and the order's price is above what XorPay
    /// lets a personal merchant take in one payment of its kind; nothing was stored or sent.
    /// Split the purchase, or offer another way to pay (Alipay's limit is lower than WeChat's).
    #[error(
        "order {order_id:?} asks {price}, above the {limit} a personal XorPay account may take \
         in one payment of this kind: nothing was sent"
    )]
    OverLimit {
        /// The order number.
        order_id: String,
        /// The order's price.
        price: Price,
        /// The most one payment of this kind may be.
        limit: Price,
    },
    /// The merchant is disabled in the merchant table ([`crate::merchants`]): it takes no
    /// new orders, while its open ones are still notified, reconciled and refunded. Nothing
    /// was stored or sent.
    #[error("this merchant is disabled in the merchant table and takes no new orders")]
    NotTakingOrders,
    /// No merchant of this name is in the merchant table ([`crate::merchants`]). Nothing was
    /// stored or sent.
    #[error("no merchant {0:?} in the merchant table")]
    UnknownMerchant(String),
    /// Another order has this number (different contents, or long closed), or had it and was
    /// pruned ([`Payments::prune`]). Use a new order number.
    #[error("order number {0:?} is taken by another order: use a new one")]
    Duplicate(String),
    /// The order was sent, XorPay's answer was lost, and XorPay could not be asked yet. Do
    /// not create another order for this purchase: checking out the same order again
    /// resumes it, and reconciliation settles it otherwise.
    #[error(
        "order {0:?} was sent but xorpay's answer was lost: check it out again (same order) \
         to resume, or let reconciliation settle it"
    )]
    InDoubt(String),
    /// XorPay could not be reached; nothing was sent. Check the same order out again.
    #[error("xorpay is unreachable, nothing was sent for order {order_id:?}: try again ({error})")]
    Unreachable {
        /// The order number.
        order_id: String,
        /// What the HTTP stack said.
        error: ClientError,
    },
    /// XorPay refused the order; it is given up (its number is spent). What to do depends
    /// on the refusal: see [`ApiError::retry`] (a frozen account or a low prepaid balance
    /// needs the merchant; risk control passes).
    #[error("xorpay refused order {order_id:?}: {error}")]
    Refused {
        /// The order number.
        order_id: String,
        /// XorPay's refusal.
        error: ApiError,
    },
    /// The order can no longer be paid: XorPay says it expired, or refused the identical
    /// request for good. Use a new order number.
    #[error("order {0:?} can no longer be paid: use a new order number")]
    Closed(String),
    /// The store failed. If the order was already sent, it is in doubt and resumes on a
    /// repeated checkout.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CheckoutError {
    /// Whether checking out the same order again is safe and may succeed: it never creates
    /// a second order for it.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(
            self,
            CheckoutError::InDoubt(_) | CheckoutError::Unreachable { .. } | CheckoutError::Store(_)
        )
    }
}

impl<O: ServiceOrder> Payments<O> {
    /// Checks an order out: stores it, sends it to its endpoint (`/api/pay` for native,
    /// JSAPI, Alipay and mini-program orders, `/api/barcode_pay` for a scanned code, the
    /// cashier page for cashier orders) and records it pending.
    ///
    /// Checking out the same order again (the same number and contents) is safe: it returns
    /// where the first left it, or resumes it if that one's answer was lost.
    ///
    /// # Errors
    /// [`CheckoutError`], which says whether trying again is safe. An order id longer than
    /// [`crate::request::MAX_ORDER_ID`] bytes or with a control character, and an order
    /// whose own `notify_url` is not the service's, are [`CheckoutError::Invalid`] before
    /// anything is stored.
    pub async fn checkout(&self, order: O) -> Result<Checkout<O>, CheckoutError> {
        if !self.taking_orders() {
            return Err(CheckoutError::NotTakingOrders);
        }
        let facts = order_facts(&order)?;
        if self.inner.personal
            && let Some(limit) = super::account::over_personal_limit(order.kind(), facts.price)
        {
            return Err(CheckoutError::OverLimit {
                order_id: facts.order_id,
                price: facts.price,
                limit,
            });
        }
        if facts
            .notify_url
            .as_deref()
            .is_some_and(|url| url != self.inner.notify_url)
        {
            return Err(RequestError::NotifyUrlDiffers.into());
        }
        let order = Order::from_facts(order, facts);
        let record = record::new_record(&order, self.now())?;
        match self.inner.store.insert(&record).await {
            Ok(()) => self.send(order).await,
            Err(StoreError::Duplicate(_)) => self.resume(&record).await,
            Err(error) => Err(error.into()),
        }
    }

    /// Sends a stored order and records what XorPay answered.
    async fn send(&self, order: Order<O, Created>) -> Result<Checkout<O>, CheckoutError> {
        let order_id = order.order_id().to_owned();
        let now = self.now();
        let pending = match self.inner.client.send_order(order, now).await {
            Ok(pending) => pending,
            Err(failed) if failed.error.outcome_unknown() => {
                return self.in_doubt(failed.order).await;
            }
            Err(failed) => {
                return match failed.error {
                    // Stays created: a repeated checkout resumes it.
                    SendError::Client(error @ ClientError::Unreachable { .. }) => {
                        Err(CheckoutError::Unreachable { order_id, error })
                    }
                    // XorPay holds this number paid already: settled as a submission whose
                    // answer was lost, by its answer to a query.
                    SendError::Client(ClientError::Api(ApiError::OrderPayed)) => {
                        self.in_doubt(failed.order).await
                    }
                    SendError::Client(ClientError::Api(error)) => {
                        // Refused for good (`order_exist`, …): XorPay's order with this
                        // number, if any, is not this one. Otherwise XorPay holds no order.
                        let why = match refuses_for_good(&error) {
                            true => Abandoned::Refused,
                            false => Abandoned::NeverPaid,
                        };
                        let given_up = failed.order.abandon(now, why);
                        let from = RecordState::Created;
                        let _ = mark_expired(self.ledger(), &given_up, from, now).await?;
                        Err(CheckoutError::Refused { order_id, error })
                    }
                    SendError::Request(error) => Err(CheckoutError::Invalid(error)),
                    _ => Err(CheckoutError::InDoubt(order_id)),
                };
            }
        };
        match mark_pending(self.ledger(), &pending, now).await? {
            Transition::Applied => Ok(Checkout::Pending(pending)),
            // A notification faster than XorPay's answer paid it meanwhile.
            Transition::NotApplied => self.current(&order_id).await,
        }
    }

    /// Settles a submission whose answer was lost, at once.
    async fn in_doubt(&self, order: Order<O, Created>) -> Result<Checkout<O>, CheckoutError> {
        let order_id = order.order_id().to_owned();
        match self.settle_created(order, self.now(), false).await? {
            Outcome::Pending(pending) => Ok(Checkout::Pending(pending)),
            Outcome::Paid(paid) => Ok(Checkout::Paid(paid)),
            Outcome::Expired => Err(CheckoutError::Closed(order_id)),
            Outcome::Superseded => self.current(&order_id).await,
            Outcome::FeeError | Outcome::Open | Outcome::Failed => {
                Err(CheckoutError::InDoubt(order_id))
            }
        }
    }

    /// A repeated checkout: the stored order, if it is this one.
    async fn resume(&self, record: &Record) -> Result<Checkout<O>, CheckoutError> {
        let order_id = record.order_id.clone();
        let stored = self.inner.store.load(&order_id).await?;
        let Some(stored) = stored.filter(|stored| stored.order == record.order) else {
            return Err(CheckoutError::Duplicate(order_id));
        };
        match record::typed::<O>(&stored)? {
            StoredOrder::Created(order) => self.in_doubt(order).await,
            other => checkout_of(other),
        }
    }

    /// Where the order stands now, read back.
    async fn current(&self, order_id: &str) -> Result<Checkout<O>, CheckoutError> {
        match self.order(order_id).await? {
            Some(other) => checkout_of(other),
            None => Err(CheckoutError::InDoubt(order_id.to_owned())),
        }
    }
}

fn checkout_of<O>(stored: StoredOrder<O>) -> Result<Checkout<O>, CheckoutError> {
    match stored {
        StoredOrder::Pending(pending) => Ok(Checkout::Pending(pending)),
        StoredOrder::Paid(paid) => Ok(Checkout::Paid(paid)),
        StoredOrder::Expired(expired) => Err(CheckoutError::Closed(expired.order_id().to_owned())),
        StoredOrder::Created(created) => Err(CheckoutError::InDoubt(created.order_id().to_owned())),
    }
}
