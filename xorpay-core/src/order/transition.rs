//! How an order moves: submitted, confirmed by a verified notification or XorPay's answer to
//! a query, settled, expired or given up. Each transition takes the order by value and gives
//! the next state back, or the order unchanged inside a [`Rejected`].

use core::fmt;
use core::marker::PhantomData;

use time::OffsetDateTime;

use super::Order;
use super::state::{Created, Expired, ExpiredData, Paid, PaidData, Pending, PendingData, State};
use crate::notify::{ExpectedPayment, PaymentMismatch, PaymentProof, VerifiedNotification};
use crate::price::Price;
use crate::request::{OrderFacts, RequestError, XorPayOrder, order_facts};
use crate::response::{Aoid, CashierPage, DEFAULT_EXPIRE_SECS, JsapiParams, PaymentInfo};
use crate::status::{BarcodeOutcome, OrderState};

impl<O: XorPayOrder> Order<O, Created> {
    /// A new order from the merchant's struct.
    ///
    /// # Errors
    /// A [`RequestError`] when the struct holds a value XorPay would refuse (an empty name or
    /// order id, an order id with a control character or longer than
    /// [`MAX_ORDER_ID`](crate::request::MAX_ORDER_ID), a failing `Display`, …): refused now
    /// rather than at submission.
    pub fn new(order: O) -> Result<Order<O, Created>, RequestError> {
        let facts = order_facts(&order)?;
        Ok(Order::from_facts(order, facts))
    }
}

impl<O> Order<O, Created> {
    /// A new order from the merchant's struct and the facts read from it.
    pub(crate) fn from_facts(order: O, facts: OrderFacts) -> Order<O, Created> {
        Order {
            order,
            order_id: facts.order_id,
            price: facts.price,
            data: (),
            state: PhantomData,
        }
    }
}

/// XorPay's answers to sending an order, as the client reads them: only the service moves a
/// created order on, since only it can prove XorPay's answer was XorPay's.
#[cfg_attr(not(feature = "client"), allow(dead_code))]
impl<O> Order<O, Created> {
    /// XorPay accepted the order (`/api/pay`): it is pending, with what the payer needs, for
    /// `lifetime` seconds from `now`.
    pub(crate) fn accepted(
        self,
        aoid: Aoid,
        payment: PaymentInfo,
        lifetime: u64,
        now: OffsetDateTime,
    ) -> Order<O, Pending> {
        self.with::<Pending>(PendingData {
            aoid: Some(aoid),
            payment,
            submitted_at: now,
            expires_at: expires_at(now, lifetime),
        })
    }

    /// XorPay accepted a barcode payment: pending until its notification (or a query) says it
    /// is paid, even when XorPay answered `success` at once.
    pub(crate) fn charged(
        self,
        aoid: Aoid,
        outcome: BarcodeOutcome,
        now: OffsetDateTime,
    ) -> Order<O, Pending> {
        self.with::<Pending>(PendingData {
            aoid: Some(aoid),
            payment: PaymentInfo::Barcode(outcome),
            submitted_at: now,
            expires_at: expires_at(now, DEFAULT_EXPIRE_SECS),
        })
    }

    /// The payer was sent to XorPay's cashier page (`lifetime` seconds). XorPay names no
    /// `aoid` until the order is paid, so such an order is confirmed with a query as well.
    pub(crate) fn opened(
        self,
        page: CashierPage,
        lifetime: u64,
        now: OffsetDateTime,
    ) -> Order<O, Pending> {
        self.with::<Pending>(PendingData {
            aoid: None,
            payment: PaymentInfo::Cashier(page),
            submitted_at: now,
            expires_at: expires_at(now, lifetime),
        })
    }
}

#[cfg_attr(not(feature = "client"), allow(dead_code))]
impl<O> Order<O, Created> {
    /// Confirms a payment for an order whose submission was never answered (a timeout, a
    /// crash): a verified notification and XorPay's own answer that this order is paid. The
    /// same exact-form checks as [`Order::confirm_with_query`] apply.
    ///
    /// # Errors
    /// [`Rejected`], holding this order.
    pub(crate) fn confirm_with_query(
        self,
        notification: VerifiedNotification,
        answer: &QueryAnswer,
    ) -> Result<Order<O, Paid>, Rejected<O, Created>> {
        confirm_with_answer(self, None, notification, answer)
    }

    /// Moves on an order whose submission was never answered, by XorPay's answer to a query
    /// about it (`query2`, which answers a status and nothing else):
    ///
    /// - paid (`payed`, `success`): [`Settled::Paid`], with no `aoid` until the notification
    ///   names it ([`Order::aoid`] is `None`, refunds wait for it);
    /// - `expire`: [`Settled::Expired`];
    /// - `fee_error`: [`Settled::FeeError`];
    /// - `new` (the order exists, unpaid: the identical re-submission recovers its `aoid` and
    ///   what the payer needs) and `not_exist` (the request never reached XorPay: it can be
    ///   sent, or given up with [`Order::abandon`]): [`Settled::Unchanged`].
    ///
    /// # Errors
    /// [`Rejected`] with [`ConfirmError::AnswerForAnotherOrder`].
    pub(crate) fn settle(
        self,
        answer: &QueryAnswer,
        now: OffsetDateTime,
    ) -> Result<Settled<O, Created>, Rejected<O, Created>> {
        if !answer.is_about(&self) {
            return Err(reject(self, ConfirmError::AnswerForAnotherOrder));
        }
        Ok(match answer.state {
            state if state.is_paid() => Settled::Paid(self.paid_by_query(None)),
            OrderState::Expire => Settled::Expired(self.abandon(now, Abandoned::NeverPaid)),
            OrderState::FeeError => Settled::FeeError(self),
            state => Settled::Unchanged(self, state),
        })
    }

    /// Gives up an order whose submission was never answered: expired from `now`, without
    /// an `aoid`. Nothing is lost by it: a payment that still arrives is confirmed as a late
    /// one (with XorPay's answer to a query on the expired order), and for
    /// [`Abandoned::Refused`] only with a notification, whose amount is checked.
    pub(crate) fn abandon(self, now: OffsetDateTime, why: Abandoned) -> Order<O, Expired> {
        self.with::<Expired>(ExpiredData {
            aoid: None,
            expired_at: now,
            refused: why == Abandoned::Refused,
        })
    }
}

/// Why an order whose submission was never answered is given up ([`Order::abandon`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Abandoned {
    /// XorPay has it expired, or never had it and it cannot be sent again (a barcode).
    NeverPaid,
    /// XorPay refused the identical request for good (`order_exist`, `sign_error`, …). Its
    /// order with this number, if any, is someone else's: a query answering `payed` for it
    /// proves nothing about this order.
    Refused,
}

fn expires_at(now: OffsetDateTime, seconds: u64) -> OffsetDateTime {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    now.checked_add(time::Duration::seconds(seconds))
        .unwrap_or(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::MIDNIGHT,
        ))
}

/// Why an order was not moved on. The order is inside, unchanged.
pub struct Rejected<O, S: State = Pending> {
    // Boxed: a refusal is rare, and a small error keeps every `Result` around it small.
    order: Box<Order<O, S>>,
    reason: ConfirmError,
}

impl<O, S: State> Rejected<O, S> {
    /// Why.
    pub fn reason(&self) -> &ConfirmError {
        &self.reason
    }

    /// The order, unchanged.
    pub fn into_order(self) -> Order<O, S> {
        *self.order
    }
}

impl<O, S: State> fmt::Debug for Rejected<O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("order_id", &self.order.order_id)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<O, S: State> fmt::Display for Rejected<O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "order {:?} not confirmed: {}",
            self.order.order_id, self.reason
        )
    }
}

impl<O, S: State> std::error::Error for Rejected<O, S> {}

/// Why a payment could not be confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfirmError {
    /// The notification is genuine but not about this order (or not for its amount).
    #[error("the notification does not match the order: {0}")]
    Mismatch(#[from] PaymentMismatch),
    /// XorPay has not named this order's `aoid` (a cashier order): a notification alone
    /// cannot be matched safely; confirm it with a query as well.
    #[error("the order's aoid is unknown (cashier order): confirm it with a query as well")]
    AoidUnknown,
    /// The query answer is about another order.
    #[error("the query answer is about another order")]
    AnswerForAnotherOrder,
    /// XorPay says the order is not paid.
    #[error("xorpay says the order is {0:?}, not paid")]
    NotPaid(OrderState),
    /// For an order whose `aoid` is not known yet, the notification's `aoid` must be 32
    /// lowercase hex digits and its amount written exactly as the order's: otherwise the
    /// fields could have been re-cut (see [`VerifiedNotification::check`]). That pins the
    /// `aoid` boundary, not the one between `order_id` and `pay_price` (`7` + `150.00` reads
    /// as `71` + `50.00`); the store pins that one by refusing an `aoid` another order holds
    /// ([`StoreError::AoidTaken`](crate::store::StoreError::AoidTaken)).
    #[error("the notification's aoid or amount is not in xorpay's exact form")]
    Ambiguous,
}

/// The answer of a query about one order, from XorPay itself. Only the client builds one,
/// from an answer it received; it moves an order on ([`Order::settle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryAnswer {
    subject: QuerySubject,
    state: OrderState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum QuerySubject {
    OrderId(String),
}

impl QueryAnswer {
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn for_order_id(order_id: String, state: OrderState) -> QueryAnswer {
        QueryAnswer {
            subject: QuerySubject::OrderId(order_id),
            state,
        }
    }

    fn is_about<O, S: State>(&self, order: &Order<O, S>) -> bool {
        match &self.subject {
            QuerySubject::OrderId(order_id) => *order_id == order.order_id,
        }
    }
}

/// Where XorPay's answer to a query moved an order that was in state `S`.
#[derive(Debug)]
#[must_use = "the order is inside"]
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) enum Settled<O, S: State = Pending> {
    /// XorPay says it is paid (`payed` or `success`).
    Paid(Order<O, Paid>),
    /// XorPay says it expired.
    Expired(Order<O, Expired>),
    /// The payer paid, but XorPay could not take its fee from the merchant's prepaid balance
    /// (`fee_error`): the merchant must top the balance up. XorPay confirms the payment (a
    /// notification, `payed` in queries) once it has taken the fee; until then the order
    /// stays as it was.
    FeeError(Order<O, S>),
    /// Nothing to record: still waiting (`new`), or XorPay does not know it, with the state
    /// XorPay reported.
    Unchanged(Order<O, S>, OrderState),
}

/// Whether a pending order has expired, by the clock.
#[derive(Debug)]
#[must_use = "the order is inside"]
pub enum Expiry<O> {
    /// Its time has come.
    Expired(Order<O, Expired>),
    /// Still within its lifetime.
    NotYet(Order<O, Pending>),
}

impl<O> Order<O, Pending> {
    /// XorPay's id for the order; `None` for a cashier order before it is paid.
    pub fn aoid(&self) -> Option<&Aoid> {
        self.data.aoid.as_ref()
    }

    /// What the payer needs: a QR text, the JSAPI parameters, the cashier page or a barcode
    /// result.
    pub fn payment(&self) -> &PaymentInfo {
        &self.data.payment
    }

    /// XorPay's cashier page of a cashier order: send the payer's browser there.
    pub fn cashier(&self) -> Option<&CashierPage> {
        match &self.data.payment {
            PaymentInfo::Cashier(page) => Some(page),
            _ => None,
        }
    }

    /// The six `WeixinJSBridge` parameters of a JSAPI or mini-program order.
    pub fn jsapi_params(&self) -> Option<&JsapiParams> {
        match &self.data.payment {
            PaymentInfo::Jsapi(params) => Some(params),
            _ => None,
        }
    }

    /// The QR text of a native or Alipay order.
    pub fn qr(&self) -> Option<&str> {
        match &self.data.payment {
            PaymentInfo::Qr(qr) => Some(qr),
            _ => None,
        }
    }

    /// When the order was submitted.
    pub fn submitted_at(&self) -> OffsetDateTime {
        self.data.submitted_at
    }

    /// When XorPay stops accepting payment for it.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.data.expires_at
    }

    /// Confirms the payment with a verified notification that names this order's `aoid`,
    /// `order_id` and exactly its price. Pure: the service records it (`payments.confirm`).
    ///
    /// # Errors
    /// [`Rejected`], holding this order, with [`ConfirmError::Mismatch`], or
    /// [`ConfirmError::AoidUnknown`] for a cashier order (the service confirms those with
    /// XorPay's answer to a query as well).
    pub fn confirm(self, notification: impl PaymentProof) -> Result<Order<O, Paid>, Rejected<O>> {
        let aoid = self.data.aoid.clone();
        confirm_known(self, aoid, notification.into_verified())
    }

    /// Confirms the payment with a verified notification *and* XorPay's own answer that this
    /// order is paid: for cashier orders, whose `aoid` XorPay names only in the notification.
    /// The answer pins the order down where the `aoid` cannot (see
    /// [`VerifiedNotification::check`]).
    ///
    /// # Errors
    /// [`Rejected`], holding this order: the notification is for another order or amount,
    /// the answer is about another order, or XorPay does not say it is paid.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn confirm_with_query(
        self,
        notification: VerifiedNotification,
        answer: &QueryAnswer,
    ) -> Result<Order<O, Paid>, Rejected<O>> {
        let aoid = self.data.aoid.clone();
        confirm_with_answer(self, aoid, notification, answer)
    }

    /// Moves the order on by XorPay's answer to a query about it: paid, expired, or still
    /// pending. A query does not tell the payment time or channel transaction, so those stay
    /// unknown on an order confirmed this way.
    ///
    /// # Errors
    /// [`Rejected`] with [`ConfirmError::AnswerForAnotherOrder`].
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn settle(self, answer: &QueryAnswer) -> Result<Settled<O>, Rejected<O>> {
        if !answer.is_about(&self) {
            return Err(self.reject(ConfirmError::AnswerForAnotherOrder));
        }
        Ok(match answer.state {
            // A cashier order's aoid is still unknown: the notification will name it.
            state if state.is_paid() => {
                let aoid = self.data.aoid.clone();
                Settled::Paid(self.paid_by_query(aoid))
            }
            OrderState::Expire => {
                let (aoid, expired_at) = (self.data.aoid.clone(), self.data.expires_at);
                Settled::Expired(self.with::<Expired>(ExpiredData {
                    aoid,
                    expired_at,
                    refused: false,
                }))
            }
            OrderState::FeeError => Settled::FeeError(self),
            state => Settled::Unchanged(self, state),
        })
    }

    /// The order expired unpaid if its time has come; otherwise it is still pending.
    pub fn expire(self, now: OffsetDateTime) -> Expiry<O> {
        if now < self.data.expires_at {
            return Expiry::NotYet(self);
        }
        let aoid = self.data.aoid.clone();
        Expiry::Expired(self.with::<Expired>(ExpiredData {
            aoid,
            expired_at: now,
            refused: false,
        }))
    }

    fn reject(self, reason: ConfirmError) -> Rejected<O> {
        reject(self, reason)
    }
}

/// Confirms with a notification and XorPay's answer to a query about the order: for orders
/// whose `aoid` XorPay has not named yet (cashier orders, and submissions whose answer was
/// lost), the notification's own `aoid` must be in XorPay's exact form, and its amount
/// written exactly as the order's.
fn confirm_with_answer<O, S: State>(
    order: Order<O, S>,
    known: Option<Aoid>,
    notification: VerifiedNotification,
    answer: &QueryAnswer,
) -> Result<Order<O, Paid>, Rejected<O, S>> {
    if !answer.is_about(&order) {
        return Err(reject(order, ConfirmError::AnswerForAnotherOrder));
    }
    if !answer.state.is_paid() {
        let state = answer.state;
        return Err(reject(order, ConfirmError::NotPaid(state)));
    }
    let aoid = match known {
        Some(aoid) => aoid,
        None => match exact_aoid(order.price, &notification) {
            Some(aoid) => aoid,
            None => return Err(reject(order, ConfirmError::Ambiguous)),
        },
    };
    confirm_known(order, Some(aoid), notification)
}

/// The `aoid` a notification names, for an order whose `aoid` XorPay has not told yet: only
/// an `aoid` in XorPay's exact form and an amount written exactly as the order's keep the
/// boundaries of the unseparated signed fields where they belong (see
/// [`VerifiedNotification::check`]).
pub(super) fn exact_aoid(price: Price, notification: &VerifiedNotification) -> Option<Aoid> {
    (is_exact_aoid(notification.aoid().as_str())
        && notification.raw_pay_price() == price.to_wire().as_str())
    .then(|| notification.aoid().clone())
}

fn reject<O, S: State>(order: Order<O, S>, reason: ConfirmError) -> Rejected<O, S> {
    Rejected {
        order: Box::new(order),
        reason,
    }
}

/// XorPay's aoids are 32 lowercase hex digits (a UUID without dashes, docs/protocol.md §1.1).
fn is_exact_aoid(aoid: &str) -> bool {
    aoid.len() == 32 && aoid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Confirms an order whose `aoid` is `aoid` with a notification that must name it, its
/// number and exactly its price.
fn confirm_known<O, S: State>(
    order: Order<O, S>,
    aoid: Option<Aoid>,
    notification: VerifiedNotification,
) -> Result<Order<O, Paid>, Rejected<O, S>> {
    let Some(aoid) = aoid else {
        return Err(reject(order, ConfirmError::AoidUnknown));
    };
    if let Err(mismatch) = notification.check(&ExpectedPayment {
        aoid: &aoid,
        order_id: &order.order_id,
        price: order.price,
    }) {
        return Err(reject(order, mismatch.into()));
    }
    Ok(order.with::<Paid>(PaidData::by_notification(aoid, &notification)))
}

impl<O> Order<O, Expired> {
    /// Confirms a payment that arrived after the order expired by the local clock (XorPay
    /// retries a notification for hours): money received is never lost. The same checks as
    /// [`Order::confirm`] apply.
    ///
    /// # Errors
    /// [`Rejected`], holding this order.
    pub fn confirm(
        self,
        notification: impl PaymentProof,
    ) -> Result<Order<O, Paid>, Rejected<O, Expired>> {
        let aoid = self.data.aoid.clone();
        confirm_known(self, aoid, notification.into_verified())
    }

    /// Confirms a late payment of an expired order whose `aoid` XorPay never named (a cashier
    /// order, or one whose submission was never answered) with its verified notification and
    /// XorPay's own answer that it is paid, under the exact-form checks of
    /// [`Order::confirm_with_query`].
    ///
    /// # Errors
    /// [`Rejected`], holding this order.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn confirm_with_query(
        self,
        notification: VerifiedNotification,
        answer: &QueryAnswer,
    ) -> Result<Order<O, Paid>, Rejected<O, Expired>> {
        let aoid = self.data.aoid.clone();
        confirm_with_answer(self, aoid, notification, answer)
    }

    /// Moves on an order that expired by the local clock, by XorPay's answer to a query: paid
    /// late ([`Settled::Paid`]; XorPay retries a notification for about 6.5 hours, and its
    /// clock is not the merchant's), [`Settled::FeeError`], or [`Settled::Unchanged`].
    ///
    /// # Errors
    /// [`Rejected`] with [`ConfirmError::AnswerForAnotherOrder`].
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn settle(
        self,
        answer: &QueryAnswer,
    ) -> Result<Settled<O, Expired>, Rejected<O, Expired>> {
        if !answer.is_about(&self) {
            return Err(reject(self, ConfirmError::AnswerForAnotherOrder));
        }
        Ok(match answer.state {
            // XorPay's order with this number is not this one: only a notification, whose
            // amount is checked, can pay it.
            state if self.data.refused => Settled::Unchanged(self, state),
            state if state.is_paid() => {
                let aoid = self.data.aoid.clone();
                Settled::Paid(self.paid_by_query(aoid))
            }
            OrderState::FeeError => Settled::FeeError(self),
            state => Settled::Unchanged(self, state),
        })
    }

    /// XorPay's id for the order, if it had one.
    pub fn aoid(&self) -> Option<&Aoid> {
        self.data.aoid.as_ref()
    }

    /// When it expired.
    pub fn expired_at(&self) -> OffsetDateTime {
        self.data.expired_at
    }
}
