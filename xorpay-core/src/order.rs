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
use crate::request::{RequestError, XorPayOrder, endpoint, order_facts};
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

    /// XorPay's id for the order, in the states that know it.
    #[doc(hidden)]
    fn __aoid(_data: &Self::Data) -> Option<&Aoid> {
        None
    }

    /// When the order was submitted, in the states that record it.
    #[doc(hidden)]
    fn __submitted_at(_data: &Self::Data) -> Option<OffsetDateTime> {
        None
    }

    /// The refund record's revision, in the states that have one.
    #[doc(hidden)]
    fn __revision(_data: &Self::Data) -> u32 {
        0
    }

    /// When the order expired, in the state that records it.
    #[doc(hidden)]
    fn __expired_at(_data: &Self::Data) -> Option<OffsetDateTime> {
        None
    }

    /// Called on data just read from storage.
    #[doc(hidden)]
    fn __loaded(_data: &mut Self::Data) {}
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

    fn __aoid(data: &PendingData) -> Option<&Aoid> {
        data.aoid.as_ref()
    }

    fn __submitted_at(data: &PendingData) -> Option<OffsetDateTime> {
        Some(data.submitted_at)
    }
}

impl State for Paid {
    type Data = PaidData;
    const NAME: &'static str = "paid";

    fn __paid_price(data: &PaidData) -> Option<Price> {
        Some(data.paid_price)
    }

    fn __aoid(data: &PaidData) -> Option<&Aoid> {
        data.aoid.as_ref()
    }

    fn __revision(data: &PaidData) -> u32 {
        data.revision
    }

    fn __loaded(data: &mut PaidData) {
        data.stored_revision = data.revision;
    }
}

impl State for Expired {
    type Data = ExpiredData;
    const NAME: &'static str = "expired";

    fn __aoid(data: &ExpiredData) -> Option<&Aoid> {
        data.aoid.as_ref()
    }

    fn __expired_at(data: &ExpiredData) -> Option<OffsetDateTime> {
        Some(data.expired_at)
    }
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
    /// `None` for an order proven paid by a query alone (which answers only a status): the
    /// notification brings it.
    aoid: Option<Aoid>,
    paid_price: Price,
    #[serde(with = "time::serde::rfc3339::option")]
    pay_time: Option<OffsetDateTime>,
    /// `pay_time` exactly as XorPay signed it, also when it is in no known form.
    #[serde(default)]
    raw_pay_time: Option<String>,
    transaction_id: Option<String>,
    confirmed_by: ConfirmedBy,
    refunded: Option<Price>,
    refunds: u8,
    /// A refund whose outcome is unknown (begun, not known made or refused): counted against
    /// the limits until resolved.
    #[serde(default)]
    in_doubt: Option<Price>,
    /// When the refund in doubt was begun: while it may still be being sent, nobody can
    /// know from XorPay's dashboard that it was not made.
    #[serde(default, with = "time::serde::rfc3339::option")]
    in_doubt_since: Option<OffsetDateTime>,
    /// The revision of this record: one more than the stored one once changed, so that a
    /// store saves it only over the row it was read from (see [`Order::loaded_revision`]).
    #[serde(default)]
    revision: u32,
    /// The revision of the stored row this copy was read from or last saved as.
    #[serde(skip)]
    stored_revision: u32,
}

/// What an expired order knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiredData {
    aoid: Option<Aoid>,
    #[serde(with = "time::serde::rfc3339")]
    expired_at: OffsetDateTime,
    /// Given up because XorPay refused the identical request for good: XorPay's order with
    /// this number, if any, is not this one, so a query about it proves nothing.
    #[serde(default)]
    refused: bool,
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

    /// XorPay's id for the order, in any state that knows it (for storage keys; the
    /// state-specific accessors say more precisely what is known).
    pub fn known_aoid(&self) -> Option<&Aoid> {
        S::__aoid(&self.data)
    }

    /// When the order was submitted, in the pending state (for reconciliation queries).
    pub fn known_submitted_at(&self) -> Option<OffsetDateTime> {
        S::__submitted_at(&self.data)
    }

    /// The refund record's revision, in the paid state; 0 otherwise (for stores).
    pub fn known_revision(&self) -> u32 {
        S::__revision(&self.data)
    }

    /// When the order expired, in the expired state (for reconciliation's grace window).
    pub fn known_expired_at(&self) -> Option<OffsetDateTime> {
        S::__expired_at(&self.data)
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

    /// Paid, as XorPay's answer to a query says: for the order's price, with no payment time
    /// or channel transaction (a query tells neither).
    fn paid_by_query(self, aoid: Option<Aoid>) -> Order<O, Paid> {
        let price = self.price;
        self.with::<Paid>(PaidData {
            aoid,
            paid_price: price,
            pay_time: None,
            raw_pay_time: None,
            transaction_id: None,
            confirmed_by: ConfirmedBy::Query,
            refunded: None,
            refunds: 0,
            in_doubt: None,
            in_doubt_since: None,
            revision: 0,
            stored_revision: 0,
        })
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

impl<O: XorPayOrder> Order<O, Created> {
    /// XorPay accepted the order (`/api/pay`): it is pending, with what the payer needs.
    /// Clients call this with XorPay's answer; custom transports can too, with the
    /// [`CreatedOrder`] that [`crate::response::CreateOrderResponse::into_result`] read from
    /// XorPay's own answer.
    pub fn submitted(self, created: CreatedOrder, now: OffsetDateTime) -> Order<O, Pending>
    where
        O::Endpoint: endpoint::Submit,
    {
        self.accepted(created, now)
    }

    /// [`Order::submitted`] for a caller that has checked the order's endpoint at run time
    /// (re-sending a submission in doubt, whatever the order's type).
    pub(crate) fn accepted(self, created: CreatedOrder, now: OffsetDateTime) -> Order<O, Pending> {
        let lifetime = created.expires_in().unwrap_or(DEFAULT_EXPIRE_SECS);
        let (aoid, payment) = created.into_parts();
        self.with::<Pending>(PendingData {
            aoid: Some(aoid),
            payment,
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
    ) -> Order<O, Pending>
    where
        O::Endpoint: endpoint::BarcodePay,
    {
        let outcome = payment.outcome();
        self.with::<Pending>(PendingData {
            aoid: Some(payment.into_aoid()),
            payment: PaymentInfo::Barcode(outcome),
            submitted_at: now,
            expires_at: expires_at(now, DEFAULT_EXPIRE_SECS),
        })
    }

    /// The payer was sent to XorPay's cashier page (`lifetime` seconds, XorPay's default being
    /// [`DEFAULT_EXPIRE_SECS`]). XorPay names no `aoid` until the order is paid, so such an
    /// order is confirmed with a query as well (see [`Order::confirm_with_query`]).
    pub fn cashier_opened(self, lifetime: u64, now: OffsetDateTime) -> Order<O, Pending>
    where
        O::Endpoint: endpoint::OpenCashier,
    {
        self.opened(lifetime, now)
    }

    /// [`Order::cashier_opened`] after a run-time check of the endpoint.
    pub(crate) fn opened(self, lifetime: u64, now: OffsetDateTime) -> Order<O, Pending> {
        self.with::<Pending>(PendingData {
            aoid: None,
            payment: PaymentInfo::Cashier,
            submitted_at: now,
            expires_at: expires_at(now, lifetime),
        })
    }
}

impl<O> Order<O, Created> {
    /// Confirms a payment for an order whose submission was never answered (a timeout, a
    /// crash): a verified notification and XorPay's own answer that this order is paid. The
    /// same exact-form checks as [`Order::confirm_with_query`] apply.
    ///
    /// # Errors
    /// [`Rejected`], holding this order.
    pub fn confirm_with_query(
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
    pub fn settle(
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
    /// one ([`Order::confirm_with_query`] on the expired order), and for
    /// [`Abandoned::Refused`] only with a notification, whose amount is checked.
    pub fn abandon(self, now: OffsetDateTime, why: Abandoned) -> Order<O, Expired> {
        self.with::<Expired>(ExpiredData {
            aoid: None,
            expired_at: now,
            refused: why == Abandoned::Refused,
        })
    }
}

/// Why an order whose submission was never answered is given up ([`Order::abandon`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Abandoned {
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
    /// fields could have been re-cut (see [`VerifiedNotification::check`]).
    #[error("the notification's aoid or amount is not in xorpay's exact form")]
    Ambiguous,
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

    /// The state XorPay reported.
    pub fn state(&self) -> OrderState {
        self.state
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
pub enum Settled<O, S: State = Pending> {
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
        let aoid = self.data.aoid.clone();
        confirm_known(self, aoid, notification)
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
        let aoid = self.data.aoid.clone();
        confirm_with_answer(self, aoid, notification, answer)
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
fn exact_aoid(price: Price, notification: &VerifiedNotification) -> Option<Aoid> {
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

/// XorPay's aoids are 32 lowercase hex digits (a UUID without dashes, PROTOCOL.md §1.1).
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
    let detail = notification.unverified_payment_detail();
    Ok(order.with::<Paid>(PaidData {
        aoid: Some(aoid),
        paid_price: notification.pay_price(),
        pay_time: notification.pay_time(),
        raw_pay_time: Some(notification.raw_pay_time().to_owned()),
        transaction_id: detail.transaction_id,
        confirmed_by: ConfirmedBy::Notification,
        refunded: None,
        refunds: 0,
        in_doubt: None,
        in_doubt_since: None,
        revision: 0,
        stored_revision: 0,
    }))
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
    /// The ticket is not this order's refund in doubt (another order's, or already settled).
    #[error("the refund ticket does not belong to this order's refund in doubt")]
    NotThisRefund,
    /// The order was proven paid by a query, which does not tell XorPay's `aoid`, and no
    /// notification has named it yet: a refund is addressed by the `aoid`. The notification
    /// names it when it comes; if XorPay gave up notifying (after about 6.5 hours), read it
    /// on the merchant dashboard and record it ([`Order::record_aoid`]).
    #[error(
        "the order's xorpay aoid is not known (a query confirmed it): wait for its notification, or record the aoid from xorpay's dashboard"
    )]
    AoidUnknown,
    /// The refund in doubt was not saved before sending: a crash or a concurrent copy could
    /// lose it. Save the order (`update_paid`) after beginning the refund, then send it.
    #[error("the refund was not recorded as in doubt before sending: save the order first")]
    NotRecorded,
    /// An earlier refund's outcome is unknown; resolve it first.
    #[error("a refund of {amount} is in doubt; resolve it before refunding again")]
    InDoubt {
        /// The amount in doubt.
        amount: Price,
    },
    /// The amount is more than what is left to refund.
    #[error("refund of {requested} exceeds what is left to refund ({})", left_text(*.refundable))]
    ExceedsPaid {
        /// The amount asked for.
        requested: Price,
        /// What is left, `None` when everything was refunded.
        refundable: Option<Price>,
    },
}

fn left_text(left: Option<Price>) -> String {
    match left {
        Some(left) => left.to_string(),
        None => "nothing".to_owned(),
    }
}

impl<O> Order<O, Paid> {
    /// XorPay's id for the order; `None` while only a query has proven the payment (a query
    /// answers a status and nothing else, PROTOCOL.md §4.4) and no notification has named it.
    pub fn aoid(&self) -> Option<&Aoid> {
        self.data.aoid.as_ref()
    }

    /// Learns the `aoid` of an order proven paid by a query, from its verified notification,
    /// which must be about this order, for exactly its amount, with an `aoid` in XorPay's
    /// exact form. An order whose `aoid` is known only checks that the notification names it.
    /// Save the order afterwards ([`crate::store::OrderStore::update_paid`]).
    ///
    /// # Errors
    /// [`ConfirmError::Mismatch`] or [`ConfirmError::Ambiguous`]; nothing changes.
    pub fn learn_aoid(&mut self, notification: &VerifiedNotification) -> Result<(), ConfirmError> {
        let aoid = match &self.data.aoid {
            Some(aoid) => aoid.clone(),
            None => exact_aoid(self.price, notification).ok_or(ConfirmError::Ambiguous)?,
        };
        notification.check(&ExpectedPayment {
            aoid: &aoid,
            order_id: &self.order_id,
            price: self.data.paid_price,
        })?;
        if self.data.aoid.is_none() {
            let detail = notification.unverified_payment_detail();
            self.data.aoid = Some(aoid);
            self.data.pay_time = notification.pay_time();
            self.data.raw_pay_time = Some(notification.raw_pay_time().to_owned());
            self.data.transaction_id = detail.transaction_id;
            self.changed();
        }
        Ok(())
    }

    /// `pay_time` exactly as XorPay signed it, when a notification confirmed the order: also
    /// in a form [`Order::pay_time`] could not read.
    pub fn raw_pay_time(&self) -> Option<&str> {
        self.data.raw_pay_time.as_deref()
    }

    /// The amount paid.
    pub fn paid_price(&self) -> Price {
        self.data.paid_price
    }

    /// When it was paid, in China time; `None` when a query, not a notification, confirmed it,
    /// or when XorPay wrote it in a form nobody documented (see [`Order::raw_pay_time`]).
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

    /// What is left to refund, `None` when everything was. A refund in doubt counts as
    /// made.
    pub fn refundable(&self) -> Option<Price> {
        let mut left = Some(self.data.paid_price);
        for taken in [self.data.refunded, self.data.in_doubt]
            .into_iter()
            .flatten()
        {
            left = left.and_then(|left| left.checked_sub(taken));
        }
        left
    }

    /// The refund in doubt: one begun ([`Order::begin_refund`]) and not known to have been
    /// made or refused. That is the state between saving the order and hearing XorPay's
    /// answer, and after an answer that did not come (a timeout, a dropped connection, a
    /// 5xx): XorPay may or may not have refunded, and no query tells. Resolve it with
    /// [`Order::resolve_refund_in_doubt`] once the merchant dashboard says.
    pub fn refund_in_doubt(&self) -> Option<Price> {
        self.data.in_doubt
    }

    /// When the refund in doubt was begun. Until the request that sends it has surely ended
    /// (the client's timeout after this), XorPay may still make it: the merchant dashboard
    /// showing no refund then proves nothing.
    pub fn refund_in_doubt_since(&self) -> Option<OffsetDateTime> {
        self.data.in_doubt_since
    }

    /// The revision this copy saves as: [`Order::loaded_revision`], plus one once it changed.
    pub fn revision(&self) -> u32 {
        self.data.revision
    }

    /// The revision of the stored row this copy was read from, or last saved as. A store
    /// saves the copy only over a row still at exactly this revision (a compare-and-set), so
    /// of two copies read at once only the first to save is recorded, however many changes
    /// either made since.
    pub fn loaded_revision(&self) -> u32 {
        self.data.stored_revision
    }

    /// Records that a store saved this copy: its revision is now the stored one. Only store
    /// implementations call it, after their conditional write applied.
    #[doc(hidden)]
    pub fn __saved(&mut self) {
        self.data.stored_revision = self.data.revision;
    }

    /// Marks the record changed since it was read or saved.
    fn changed(&mut self) {
        self.data.revision = self.data.stored_revision.wrapping_add(1);
    }

    /// Whether XorPay would accept refunding `amount` now: no refund in doubt, under the
    /// refund limit, and within what is left.
    ///
    /// # Errors
    /// The [`RefundLimit`] that refuses it.
    pub fn check_refund(&self, amount: Price) -> Result<(), RefundLimit> {
        if self.data.aoid.is_none() {
            return Err(RefundLimit::AoidUnknown);
        }
        if let Some(in_doubt) = self.data.in_doubt {
            return Err(RefundLimit::InDoubt { amount: in_doubt });
        }
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

    /// Begins a refund at `now`: checks the limits and records `amount` as in doubt, so that
    /// a crash between sending it and hearing the answer cannot lose it. Save the order, then
    /// send the refund with the ticket (`Client::send_refund`, which refuses a ticket whose
    /// order was not saved since), then save again; `store::refund` does all of it.
    ///
    /// # Errors
    /// The [`RefundLimit`] that refuses it; nothing is recorded then.
    pub fn begin_refund(
        &mut self,
        amount: Price,
        now: OffsetDateTime,
    ) -> Result<RefundTicket, RefundLimit> {
        self.check_refund(amount)?;
        let aoid = self.data.aoid.clone().ok_or(RefundLimit::AoidUnknown)?;
        self.data.in_doubt = Some(amount);
        self.data.in_doubt_since = Some(now);
        self.changed();
        Ok(RefundTicket { aoid, amount })
    }

    /// Whether the refund begun with `ticket` is recorded as in doubt in the store: this copy
    /// was saved since it began (a store's `update_paid` applied). Only then may it be sent,
    /// so that neither a crash nor a concurrent copy can lose a refund XorPay made.
    pub fn is_recorded(&self, ticket: &RefundTicket) -> bool {
        self.data.in_doubt == Some(ticket.amount)
            && self.data.aoid.as_ref() == Some(&ticket.aoid)
            && self.data.stored_revision == self.data.revision
    }

    /// Records the `aoid` of an order proven paid by a query alone, as read on XorPay's
    /// merchant dashboard: when every notification failed (XorPay gives up after about 6.5
    /// hours), nothing else ever tells it, and refunds need it. Save the order afterwards.
    ///
    /// # Errors
    /// [`ConfirmError::Mismatch`] when the order already knows another `aoid`.
    pub fn record_aoid(&mut self, aoid: Aoid) -> Result<(), ConfirmError> {
        match &self.data.aoid {
            Some(known) if *known == aoid => Ok(()),
            Some(_) => Err(ConfirmError::Mismatch(PaymentMismatch::Aoid)),
            None => {
                self.data.aoid = Some(aoid);
                self.changed();
                Ok(())
            }
        }
    }

    fn add_refund(&mut self, amount: Price) {
        let total = match self.data.refunded {
            None => amount,
            // Within the paid price, checked when the refund began.
            Some(refunded) => refunded.checked_add(amount).unwrap_or(Price::MAX),
        };
        self.data.refunded = Some(total);
        self.data.refunds = self.data.refunds.saturating_add(1);
    }

    /// Settles the refund in doubt: `made` says whether XorPay made it (its answer, or its
    /// dashboard). Does nothing when no refund is in doubt.
    pub fn resolve_refund_in_doubt(&mut self, made: bool) {
        if let Some(amount) = self.data.in_doubt.take() {
            if made {
                self.add_refund(amount);
            }
            self.data.in_doubt_since = None;
            self.changed();
        }
    }
}

/// A begun refund, to be sent once: only [`Order::begin_refund`] makes one, and sending
/// consumes it. After a crash there is no ticket, so a refund whose fate is unknown cannot be
/// sent twice by accident.
#[derive(Debug)]
#[must_use = "send the refund with it, or resolve the refund in doubt"]
pub struct RefundTicket {
    aoid: Aoid,
    amount: Price,
}

impl RefundTicket {
    /// The amount to refund.
    pub fn amount(&self) -> Price {
        self.amount
    }

    /// The order it belongs to.
    pub fn aoid(&self) -> &Aoid {
        &self.aoid
    }
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
        notification: VerifiedNotification,
    ) -> Result<Order<O, Paid>, Rejected<O, Expired>> {
        let aoid = self.data.aoid.clone();
        confirm_known(self, aoid, notification)
    }

    /// Confirms a late payment of an expired order whose `aoid` XorPay never named (a cashier
    /// order, or one whose submission was never answered) with its verified notification and
    /// XorPay's own answer that it is paid, under the exact-form checks of
    /// [`Order::confirm_with_query`].
    ///
    /// # Errors
    /// [`Rejected`], holding this order.
    pub fn confirm_with_query(
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
    pub fn settle(self, answer: &QueryAnswer) -> Result<Settled<O, Expired>, Rejected<O, Expired>> {
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
#[derive(Debug)]
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
            mut data: S::Data,
        ) -> Result<Order<O, S>, E> {
            S::__loaded(&mut data);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::Visit;
    use crate::request::{OwnNotifyUrl, ValueSource};

    /// A hand-written order type: the derive lives in another crate.
    struct Tea(Price);

    impl XorPayOrder for Tea {
        const KIND: crate::RequestKind = crate::RequestKind::Native;
        type NotifyUrl = OwnNotifyUrl;
        type Endpoint = endpoint::Pay;

        fn __xorpay_visit<V: Visit>(&self, visitor: &mut V) {
            visitor.signed_str("name", ValueSource::Field("name"), "Tea");
            visitor.signed_str("pay_type", ValueSource::Kind, "native");
            visitor.signed_price(ValueSource::Field("price"), self.0);
            visitor.signed_str("order_id", ValueSource::Field("id"), "t-1");
            visitor.signed_str(
                "notify_url",
                ValueSource::Attribute,
                "https://shop.example/n",
            );
        }
    }

    fn paid(fen: u64) -> Order<Tea, Paid> {
        let price = Price::from_fen(fen).unwrap();
        let created = Order::new(Tea(price)).unwrap();
        created.paid_by_query(Some(Aoid::new("e19c8c8673ba42419043fc92b99303c1").unwrap()))
    }

    /// A refund XorPay made, as a client records it.
    fn refund(order: &mut Order<Tea, Paid>, amount: Price) -> Result<(), RefundLimit> {
        let _ticket = order.begin_refund(amount, OffsetDateTime::UNIX_EPOCH)?;
        order.resolve_refund_in_doubt(true);
        Ok(())
    }

    fn fen(fen: u64) -> Price {
        Price::from_fen(fen).unwrap()
    }

    #[test]
    fn refunds_are_limited_to_what_is_left_and_to_fifty() {
        let mut order = paid(100);
        refund(&mut order, fen(40)).unwrap();
        assert_eq!(order.refundable(), Some(fen(60)));
        assert_eq!(
            refund(&mut order, fen(61)),
            Err(RefundLimit::ExceedsPaid {
                requested: fen(61),
                refundable: Some(fen(60))
            })
        );
        refund(&mut order, fen(60)).unwrap();
        assert_eq!(order.refundable(), None);
        assert!(order.check_refund(Price::MIN).is_err());

        let mut order = paid(10_000);
        for _ in 0..MAX_REFUNDS {
            refund(&mut order, Price::MIN).unwrap();
        }
        assert_eq!(refund(&mut order, Price::MIN), Err(RefundLimit::TooMany));
        assert_eq!(order.refund_count(), 50);
        assert_eq!(order.refunded(), Some(fen(50)));
    }

    #[test]
    fn a_refund_in_doubt_counts_until_resolved() {
        let mut order = paid(100);
        let ticket = order
            .begin_refund(fen(70), OffsetDateTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(ticket.amount(), fen(70));
        assert_eq!((order.loaded_revision(), order.revision()), (0, 1));
        assert_eq!(order.refundable(), Some(fen(30)));
        assert_eq!(
            order.check_refund(Price::MIN),
            Err(RefundLimit::InDoubt { amount: fen(70) })
        );
        order.resolve_refund_in_doubt(false);
        assert_eq!(order.refundable(), Some(fen(100)));
        assert_eq!(order.refunded(), None);
        // Every change since the last save is one revision: the store's compare-and-set is on
        // the revision it was read at.
        assert_eq!((order.loaded_revision(), order.revision()), (0, 1));
        order.__saved();
        let _ticket = order
            .begin_refund(fen(10), OffsetDateTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!((order.loaded_revision(), order.revision()), (1, 2));
        order.resolve_refund_in_doubt(false);

        let _ticket = order
            .begin_refund(fen(70), OffsetDateTime::UNIX_EPOCH)
            .unwrap();
        order.resolve_refund_in_doubt(true);
        assert_eq!(order.refunded(), Some(fen(70)));
        assert_eq!(order.refund_count(), 1);
        assert_eq!(order.refundable(), Some(fen(30)));
    }

    #[test]
    fn limits_read_like_sentences() {
        let text = RefundLimit::ExceedsPaid {
            requested: fen(5),
            refundable: None,
        }
        .to_string();
        assert_eq!(
            text,
            "refund of 0.05 exceeds what is left to refund (nothing)"
        );
    }
}
