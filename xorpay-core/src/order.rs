//! The life of an order in types: [`Order<O, Created>`](Order) → [`Order<O, Pending>`](Order)
//! → [`Order<O, Paid>`](Order) (or [`Order<O, Expired>`](Order)).
//!
//! The merchant's own struct `O` (one that derives `XorPayOrder`) travels inside. Every
//! transition takes the order by value and gives back the next state, and each method exists
//! only in the states where it makes sense: there is no way to read the JSAPI parameters of
//! an order that was never submitted, to refund an unpaid one, or to mark one paid without a
//! [`VerifiedNotification`] (or an authoritative query answer) that matches its `aoid`,
//! `order_id` and amount. A refused transition hands the order back inside the error, so
//! nothing is lost.
//!
//! States are sealed, uninhabited marker types; the data each state adds (the `aoid` and the
//! payer's instructions once pending, the payment once paid) lives in [`State::Data`], so it
//! exists exactly when the state does. Every state serialises; [`StoredOrder`] is the one way
//! back from storage, and it re-checks the stored order against its struct.
//!
//! This module performs no I/O. Submitting, querying and refunding over HTTP is the client's
//! job (`crate::client`, feature `client`); custom transports can use the public transition
//! functions directly.

use core::fmt;
use core::marker::PhantomData;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::notify::{ExpectedPayment, PaymentMismatch, VerifiedNotification};
use crate::price::Price;
use crate::request::{RequestError, XorPayOrder, order_facts};
use crate::response::{
    Aoid, BarcodePayment, CreatedOrder, DEFAULT_EXPIRE_SECS, JsapiParams, PaymentInfo,
};
use crate::status::{BarcodeOutcome, OrderState};

mod sealed {
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not an order state",
        label = "not one of xorpay's order states",
        note = "the states of an order are fixed by xorpay: `Created`, `Pending`, `Paid` and `Expired`; an order moves between them only through its own methods"
    )]
    pub trait Sealed {}
}

/// An order state: [`Created`], [`Pending`], [`Paid`] or [`Expired`]. Sealed.
pub trait State: sealed::Sealed {
    /// What an order knows in this state, besides the merchant's struct.
    type Data: fmt::Debug + Clone + PartialEq + Serialize;
    /// The state's name in storage, e.g. `"pending"`.
    const NAME: &'static str;

    /// The amount recorded as paid, in the states that record one.
    #[doc(hidden)]
    fn __paid_price(_data: &Self::Data) -> Option<Price> {
        None
    }
}

/// Built from the merchant's struct, not yet sent to XorPay.
#[derive(Debug)]
pub enum Created {}

/// Sent to XorPay and accepted: the payer can pay.
#[derive(Debug)]
pub enum Pending {}

/// Paid, as a verified notification or an authoritative query said.
#[derive(Debug)]
pub enum Paid {}

/// Expired unpaid.
#[derive(Debug)]
pub enum Expired {}

impl sealed::Sealed for Created {}
impl sealed::Sealed for Pending {}
impl sealed::Sealed for Paid {}
impl sealed::Sealed for Expired {}

impl State for Created {
    type Data = ();
    const NAME: &'static str = "created";
}

impl State for Pending {
    type Data = PendingData;
    const NAME: &'static str = "pending";
}

impl State for Paid {
    type Data = PaidData;
    const NAME: &'static str = "paid";

    fn __paid_price(data: &PaidData) -> Option<Price> {
        Some(data.paid_price)
    }
}

impl State for Expired {
    type Data = ExpiredData;
    const NAME: &'static str = "expired";
}

/// What a pending order knows. Read it through [`Order<O, Pending>`](Order)'s accessors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingData {
    aoid: Option<Aoid>,
    payment: PaymentInfo,
    #[serde(with = "time::serde::rfc3339")]
    submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: OffsetDateTime,
}

/// What a paid order knows. Read it through [`Order<O, Paid>`](Order)'s accessors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaidData {
    aoid: Aoid,
    paid_price: Price,
    #[serde(with = "time::serde::rfc3339::option")]
    pay_time: Option<OffsetDateTime>,
    transaction_id: Option<String>,
    confirmed_by: ConfirmedBy,
    refunded: Option<Price>,
    refunds: u8,
}

/// What an expired order knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiredData {
    aoid: Option<Aoid>,
    #[serde(with = "time::serde::rfc3339")]
    expired_at: OffsetDateTime,
}

/// What proved an order paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConfirmedBy {
    /// A payment notification whose signature was verified.
    Notification,
    /// XorPay's answer to a query (`payed` or `success`).
    Query,
}

/// A merchant order in state `S`: the merchant's struct `O` plus what the state knows.
///
/// Build one with [`Order::new`] from a struct that derives `XorPayOrder`; a client moves it
/// on (`client.submit(order)` gives an `Order<O, Pending>`, whose [`Order::confirm`] takes
/// the verified notification). The `xorpay` crate's README walks through the whole flow.
#[must_use = "an order moves by value: keep the order each transition returns"]
pub struct Order<O, S: State = Created> {
    order: O,
    order_id: String,
    price: Price,
    data: S::Data,
    state: PhantomData<S>,
}

impl<O, S: State> Order<O, S> {
    /// The merchant's struct.
    pub fn inner(&self) -> &O {
        &self.order
    }

    /// The merchant's struct, giving up the typed order.
    pub fn into_inner(self) -> O {
        self.order
    }

    /// The order number, as signed.
    pub fn order_id(&self) -> &str {
        &self.order_id
    }

    /// The amount the order asks for.
    pub fn price(&self) -> Price {
        self.price
    }

    /// The state's name: `"created"`, `"pending"`, `"paid"` or `"expired"`.
    pub fn state_name(&self) -> &'static str {
        S::NAME
    }

    fn with<T: State>(self, data: T::Data) -> Order<O, T> {
        Order {
            order: self.order,
            order_id: self.order_id,
            price: self.price,
            data,
            state: PhantomData,
        }
    }
}

impl<O: XorPayOrder> Order<O, Created> {
    /// A new order from the merchant's struct.
    ///
    /// # Errors
    /// A [`RequestError`] when the struct holds a value XorPay would refuse (an empty name or
    /// order id, a failing `Display`, …): refused now rather than at submission.
    pub fn new(order: O) -> Result<Order<O, Created>, RequestError> {
        let facts = order_facts(&order)?;
        Ok(Order {
            order,
            order_id: facts.order_id,
            price: facts.price,
            data: (),
            state: PhantomData,
        })
    }
}

impl<O> Order<O, Created> {
    /// XorPay accepted the order (`/api/pay`): it is pending, with what the payer needs.
    /// Clients call this; it is public for custom transports.
    pub fn submitted(self, created: CreatedOrder, now: OffsetDateTime) -> Order<O, Pending> {
        let lifetime = created.expires_in.unwrap_or(DEFAULT_EXPIRE_SECS);
        self.with::<Pending>(PendingData {
            aoid: Some(created.aoid),
            payment: created.payment,
            submitted_at: now,
            expires_at: expires_at(now, lifetime),
        })
    }

    /// XorPay accepted a barcode payment: pending until its notification (or a query) says it
    /// is paid, even when XorPay answered `success` at once.
    pub fn barcode_submitted(
        self,
        payment: BarcodePayment,
        now: OffsetDateTime,
    ) -> Order<O, Pending> {
        self.with::<Pending>(PendingData {
            aoid: Some(payment.aoid),
            payment: PaymentInfo::Barcode(payment.outcome),
            submitted_at: now,
            expires_at: expires_at(now, DEFAULT_EXPIRE_SECS),
        })
    }

    /// The payer was sent to XorPay's cashier page (`lifetime` seconds, XorPay's default being
    /// [`DEFAULT_EXPIRE_SECS`]). XorPay names no `aoid` until the order is paid, so such an
    /// order is confirmed with a query as well (see [`Order::confirm_with_query`]).
    pub fn cashier_opened(self, lifetime: u64, now: OffsetDateTime) -> Order<O, Pending> {
        self.with::<Pending>(PendingData {
            aoid: None,
            payment: PaymentInfo::Cashier,
            submitted_at: now,
            expires_at: expires_at(now, lifetime),
        })
    }
}

fn expires_at(now: OffsetDateTime, seconds: u64) -> OffsetDateTime {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    now.checked_add(time::Duration::seconds(seconds))
        .unwrap_or(OffsetDateTime::new_utc(
            time::Date::MAX,
            time::Time::MIDNIGHT,
        ))
}

/// Why a pending order was not moved on. The order is inside, unchanged.
pub struct Rejected<O> {
    // Boxed: a refusal is rare, and a small error keeps every `Result` around it small.
    order: Box<Order<O, Pending>>,
    reason: ConfirmError,
}

impl<O> Rejected<O> {
    /// Why.
    pub fn reason(&self) -> &ConfirmError {
        &self.reason
    }

    /// The pending order, unchanged.
    pub fn into_order(self) -> Order<O, Pending> {
        *self.order
    }
}

impl<O> fmt::Debug for Rejected<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("order_id", &self.order.order_id)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<O> fmt::Display for Rejected<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "order {:?} not confirmed: {}",
            self.order.order_id, self.reason
        )
    }
}

impl<O> std::error::Error for Rejected<O> {}

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
}

/// The answer of a query about one order, from XorPay itself. Only the client builds one,
/// from an answer it received; it moves a pending order on ([`Order::settle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    subject: QuerySubject,
    state: OrderState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum QuerySubject {
    Aoid(Aoid),
    OrderId(String),
}

impl QueryAnswer {
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn for_aoid(aoid: Aoid, state: OrderState) -> QueryAnswer {
        QueryAnswer {
            subject: QuerySubject::Aoid(aoid),
            state,
        }
    }

    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn for_order_id(order_id: String, state: OrderState) -> QueryAnswer {
        QueryAnswer {
            subject: QuerySubject::OrderId(order_id),
            state,
        }
    }

    /// The state XorPay reported.
    pub fn state(&self) -> OrderState {
        self.state
    }

    fn is_about<O>(&self, order: &Order<O, Pending>) -> bool {
        match &self.subject {
            QuerySubject::Aoid(aoid) => order.data.aoid.as_ref() == Some(aoid),
            QuerySubject::OrderId(order_id) => *order_id == order.order_id,
        }
    }
}

/// Where a query moved a pending order.
#[derive(Debug)]
#[must_use = "the order is inside"]
pub enum Settled<O> {
    /// XorPay says it is paid (`payed` or `success`).
    Paid(Order<O, Paid>),
    /// XorPay says it expired.
    Expired(Order<O, Expired>),
    /// Still waiting (`new`, `fee_error`, or XorPay does not know it yet), with the state
    /// XorPay reported.
    Pending(Order<O, Pending>, OrderState),
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

    /// What the payer needs: a QR text, the JSAPI parameters, the cashier or a barcode result.
    pub fn payment(&self) -> &PaymentInfo {
        &self.data.payment
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
    /// `order_id` and exactly its price.
    ///
    /// # Errors
    /// [`Rejected`], holding this order, with [`ConfirmError::Mismatch`], or
    /// [`ConfirmError::AoidUnknown`] for a cashier order (use
    /// [`Order::confirm_with_query`]).
    pub fn confirm(
        self,
        notification: VerifiedNotification,
    ) -> Result<Order<O, Paid>, Rejected<O>> {
        let Some(aoid) = self.data.aoid.clone() else {
            return Err(self.reject(ConfirmError::AoidUnknown));
        };
        if let Err(mismatch) = notification.check(&ExpectedPayment {
            aoid: &aoid,
            order_id: &self.order_id,
            price: self.price,
        }) {
            return Err(self.reject(mismatch.into()));
        }
        Ok(self.paid_by(notification))
    }

    /// Confirms the payment with a verified notification *and* XorPay's own answer that this
    /// order is paid: for cashier orders, whose `aoid` XorPay names only in the notification.
    /// The answer pins the order down where the `aoid` cannot (see
    /// [`VerifiedNotification::check`]).
    ///
    /// # Errors
    /// [`Rejected`], holding this order: the notification is for another order or amount,
    /// the answer is about another order, or XorPay does not say it is paid.
    pub fn confirm_with_query(
        self,
        notification: VerifiedNotification,
        answer: &QueryAnswer,
    ) -> Result<Order<O, Paid>, Rejected<O>> {
        if !answer.is_about(&self) {
            return Err(self.reject(ConfirmError::AnswerForAnotherOrder));
        }
        if !answer.state.is_paid() {
            let state = answer.state;
            return Err(self.reject(ConfirmError::NotPaid(state)));
        }
        let aoid = self
            .data
            .aoid
            .clone()
            .unwrap_or_else(|| notification.aoid().clone());
        if let Err(mismatch) = notification.check(&ExpectedPayment {
            aoid: &aoid,
            order_id: &self.order_id,
            price: self.price,
        }) {
            return Err(self.reject(mismatch.into()));
        }
        Ok(self.paid_by(notification))
    }

    /// Moves the order on by XorPay's answer to a query about it: paid, expired, or still
    /// pending. A query does not tell the payment time or channel transaction, so those stay
    /// unknown on an order confirmed this way.
    ///
    /// # Errors
    /// [`Rejected`] with [`ConfirmError::AnswerForAnotherOrder`].
    pub fn settle(self, answer: &QueryAnswer) -> Result<Settled<O>, Rejected<O>> {
        if !answer.is_about(&self) {
            return Err(self.reject(ConfirmError::AnswerForAnotherOrder));
        }
        Ok(match (answer.state, self.data.aoid.clone()) {
            (state, Some(aoid)) if state.is_paid() => {
                let price = self.price;
                Settled::Paid(self.with::<Paid>(PaidData {
                    aoid,
                    paid_price: price,
                    pay_time: None,
                    transaction_id: None,
                    confirmed_by: ConfirmedBy::Query,
                    refunded: None,
                    refunds: 0,
                }))
            }
            (OrderState::Expire, aoid) => {
                let expired_at = self.data.expires_at;
                Settled::Expired(self.with::<Expired>(ExpiredData { aoid, expired_at }))
            }
            // Paid without a known aoid (a cashier order) needs the notification to name it.
            (state, _) => Settled::Pending(self, state),
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
        }))
    }

    fn reject(self, reason: ConfirmError) -> Rejected<O> {
        Rejected {
            order: Box::new(self),
            reason,
        }
    }

    fn paid_by(self, notification: VerifiedNotification) -> Order<O, Paid> {
        let detail = notification.unverified_payment_detail();
        self.with::<Paid>(PaidData {
            aoid: notification.aoid().clone(),
            paid_price: notification.pay_price(),
            pay_time: Some(notification.pay_time()),
            transaction_id: detail.transaction_id,
            confirmed_by: ConfirmedBy::Notification,
            refunded: None,
            refunds: 0,
        })
    }
}

/// XorPay allows at most this many (partial) refunds per order (PROTOCOL.md §4.6).
pub const MAX_REFUNDS: u8 = 50;

/// A refund refused before anything was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefundLimit {
    /// The order has had [`MAX_REFUNDS`] refunds already.
    #[error("the order has had {MAX_REFUNDS} refunds, xorpay's limit")]
    TooMany,
    /// The amount is more than what is left to refund.
    #[error("refund of {requested} exceeds what is left to refund ({refundable:?})")]
    ExceedsPaid {
        /// The amount asked for.
        requested: Price,
        /// What is left, `None` when everything was refunded.
        refundable: Option<Price>,
    },
}

impl<O> Order<O, Paid> {
    /// XorPay's id for the order.
    pub fn aoid(&self) -> &Aoid {
        &self.data.aoid
    }

    /// The amount paid.
    pub fn paid_price(&self) -> Price {
        self.data.paid_price
    }

    /// When it was paid, in China time; `None` when a query, not a notification, confirmed it.
    pub fn pay_time(&self) -> Option<OffsetDateTime> {
        self.data.pay_time
    }

    /// The payment channel's transaction number, from the notification's `detail`. **Not
    /// covered by XorPay's signature**: for display and support, not for decisions.
    pub fn transaction_id(&self) -> Option<&str> {
        self.data.transaction_id.as_deref()
    }

    /// What proved the payment.
    pub fn confirmed_by(&self) -> ConfirmedBy {
        self.data.confirmed_by
    }

    /// The total refunded so far, `None` for nothing.
    pub fn refunded(&self) -> Option<Price> {
        self.data.refunded
    }

    /// How many refunds were made.
    pub fn refund_count(&self) -> u8 {
        self.data.refunds
    }

    /// What is left to refund, `None` when everything was.
    pub fn refundable(&self) -> Option<Price> {
        match self.data.refunded {
            None => Some(self.data.paid_price),
            Some(refunded) => self.data.paid_price.checked_sub(refunded),
        }
    }

    /// Whether XorPay would accept refunding `amount` now: under the refund limit and within
    /// what is left.
    ///
    /// # Errors
    /// The [`RefundLimit`] that refuses it.
    pub fn check_refund(&self, amount: Price) -> Result<(), RefundLimit> {
        if self.data.refunds >= MAX_REFUNDS {
            return Err(RefundLimit::TooMany);
        }
        let refundable = self.refundable();
        match refundable {
            Some(left) if amount <= left => Ok(()),
            _ => Err(RefundLimit::ExceedsPaid {
                requested: amount,
                refundable,
            }),
        }
    }

    /// Records a refund XorPay accepted. Clients call this; it is public for custom
    /// transports.
    ///
    /// # Errors
    /// The [`RefundLimit`] that refuses it; nothing is recorded then.
    pub fn record_refund(&mut self, amount: Price) -> Result<(), RefundLimit> {
        self.check_refund(amount)?;
        let total = match self.data.refunded {
            None => amount,
            // Cannot overflow: the total stays within the paid price, checked above.
            Some(refunded) => refunded.checked_add(amount).unwrap_or(amount),
        };
        self.data.refunded = Some(total);
        self.data.refunds += 1;
        Ok(())
    }
}

impl<O> Order<O, Expired> {
    /// XorPay's id for the order, if it had one.
    pub fn aoid(&self) -> Option<&Aoid> {
        self.data.aoid.as_ref()
    }

    /// When it expired.
    pub fn expired_at(&self) -> OffsetDateTime {
        self.data.expired_at
    }
}

impl<O: fmt::Debug, S: State> fmt::Debug for Order<O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("state", &S::NAME)
            .field("order_id", &self.order_id)
            .field("price", &self.price)
            .field("order", &self.order)
            .field("data", &self.data)
            .finish()
    }
}

impl<O: Clone, S: State> Clone for Order<O, S> {
    fn clone(&self) -> Self {
        Order {
            order: self.order.clone(),
            order_id: self.order_id.clone(),
            price: self.price,
            data: self.data.clone(),
            state: PhantomData,
        }
    }
}

impl<O: Serialize, S: State> Serialize for Order<O, S> {
    /// `{"state": "pending", "order": …, "data": …}`: the merchant's struct and the state's
    /// data. The order number and price are not stored apart: they are read from the struct
    /// again when the order is loaded.
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Order", 3)?;
        out.serialize_field("state", S::NAME)?;
        out.serialize_field("order", &self.order)?;
        out.serialize_field("data", &self.data)?;
        out.end()
    }
}

/// An order of any state, as loaded from storage: the one way back into a typed order.
///
/// Deserialising re-derives the order number and price from the merchant's struct (and
/// refuses a struct XorPay would refuse), so a stored row cannot claim other values than the
/// struct it holds.
#[derive(Debug, Clone)]
pub enum StoredOrder<O> {
    /// Not yet submitted.
    Created(Order<O, Created>),
    /// Submitted, waiting for payment.
    Pending(Order<O, Pending>),
    /// Paid.
    Paid(Order<O, Paid>),
    /// Expired unpaid.
    Expired(Order<O, Expired>),
}

impl<O> StoredOrder<O> {
    /// The state's name.
    pub fn state_name(&self) -> &'static str {
        match self {
            StoredOrder::Created(order) => order.state_name(),
            StoredOrder::Pending(order) => order.state_name(),
            StoredOrder::Paid(order) => order.state_name(),
            StoredOrder::Expired(order) => order.state_name(),
        }
    }

    /// The order number.
    pub fn order_id(&self) -> &str {
        match self {
            StoredOrder::Created(order) => order.order_id(),
            StoredOrder::Pending(order) => order.order_id(),
            StoredOrder::Paid(order) => order.order_id(),
            StoredOrder::Expired(order) => order.order_id(),
        }
    }
}

macro_rules! stored_from {
    ($($state:ident),*) => {$(
        impl<O> From<Order<O, $state>> for StoredOrder<O> {
            fn from(order: Order<O, $state>) -> StoredOrder<O> {
                StoredOrder::$state(order)
            }
        }
    )*};
}

stored_from!(Created, Pending, Paid, Expired);

impl<O: Serialize> Serialize for StoredOrder<O> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        match self {
            StoredOrder::Created(order) => order.serialize(serializer),
            StoredOrder::Pending(order) => order.serialize(serializer),
            StoredOrder::Paid(order) => order.serialize(serializer),
            StoredOrder::Expired(order) => order.serialize(serializer),
        }
    }
}

/// The stored shape, for deserialising.
#[derive(Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
enum Stored<O> {
    Created { order: O, data: () },
    Pending { order: O, data: PendingData },
    Paid { order: O, data: PaidData },
    Expired { order: O, data: ExpiredData },
}

impl<'de, O: XorPayOrder + Deserialize<'de>> Deserialize<'de> for StoredOrder<O> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<StoredOrder<O>, D::Error> {
        fn typed<O: XorPayOrder, S: State, E: serde::de::Error>(
            order: O,
            data: S::Data,
        ) -> Result<Order<O, S>, E> {
            let facts = order_facts(&order).map_err(E::custom)?;
            if let Some(paid) = S::__paid_price(&data)
                && paid != facts.price
            {
                return Err(E::custom(
                    "stored paid amount differs from the order's price",
                ));
            }
            Ok(Order {
                order,
                order_id: facts.order_id,
                price: facts.price,
                data,
                state: PhantomData,
            })
        }
        Ok(match Stored::<O>::deserialize(deserializer)? {
            Stored::Created { order, data } => {
                StoredOrder::Created(typed::<O, Created, D::Error>(order, data)?)
            }
            Stored::Pending { order, data } => {
                StoredOrder::Pending(typed::<O, Pending, D::Error>(order, data)?)
            }
            Stored::Paid { order, data } => {
                StoredOrder::Paid(typed::<O, Paid, D::Error>(order, data)?)
            }
            Stored::Expired { order, data } => {
                StoredOrder::Expired(typed::<O, Expired, D::Error>(order, data)?)
            }
        })
    }
}

impl From<BarcodeOutcome> for PaymentInfo {
    fn from(outcome: BarcodeOutcome) -> PaymentInfo {
        PaymentInfo::Barcode(outcome)
    }
}
