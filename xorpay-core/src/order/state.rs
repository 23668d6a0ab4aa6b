//! The states of an order: sealed, uninhabited marker types, and what an order knows in
//! each ([`State::Data`]).

use core::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::refund::Refund;
use crate::notify::VerifiedNotification;
use crate::price::Price;
use crate::response::{Aoid, PaymentInfo};

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

/// What a pending order knows. Read it through [`Order<O, Pending>`](super::Order)'s accessors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingData {
    pub(super) aoid: Option<Aoid>,
    pub(super) payment: PaymentInfo,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) submitted_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) expires_at: OffsetDateTime,
}

/// What a paid order knows. Read it through [`Order<O, Paid>`](super::Order)'s accessors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaidData {
    /// `None` for an order proven paid by a query alone (which answers only a status): the
    /// notification brings it.
    pub(super) aoid: Option<Aoid>,
    pub(super) paid_price: Price,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(super) pay_time: Option<OffsetDateTime>,
    /// `pay_time` exactly as XorPay signed it, also when it is in no known form.
    pub(super) raw_pay_time: Option<String>,
    pub(super) transaction_id: Option<String>,
    pub(super) confirmed_by: ConfirmedBy,
    /// Every refund asked of XorPay for this order, oldest first: made, not made, or in
    /// doubt (at most one).
    pub(super) refunds: Vec<Refund>,
    /// The revision of this record: one more than the stored one once changed, so that a
    /// store saves it only over the row it was read from (see `Order::loaded_revision`).
    pub(super) revision: u32,
    /// The revision of the stored row this copy was read from or last saved as.
    #[serde(skip)]
    pub(super) stored_revision: u32,
}

impl PaidData {
    /// A payment proven by XorPay's answer to a query: the order's price, no payment time or
    /// channel transaction (a query tells neither), and the `aoid` only if it was known.
    pub(super) fn by_query(aoid: Option<Aoid>, price: Price) -> PaidData {
        PaidData::new(aoid, price, ConfirmedBy::Query)
    }

    /// A payment proven by a verified notification already checked against the order.
    pub(crate) fn by_notification(aoid: Aoid, notification: &VerifiedNotification) -> PaidData {
        let mut data = PaidData::new(
            Some(aoid),
            notification.pay_price(),
            ConfirmedBy::Notification,
        );
        data.pay_time = notification.pay_time();
        data.raw_pay_time = Some(notification.raw_pay_time().to_owned());
        data.transaction_id = notification.unverified_payment_detail().transaction_id;
        data
    }

    fn new(aoid: Option<Aoid>, paid_price: Price, confirmed_by: ConfirmedBy) -> PaidData {
        PaidData {
            aoid,
            paid_price,
            pay_time: None,
            raw_pay_time: None,
            transaction_id: None,
            confirmed_by,
            refunds: Vec::new(),
            revision: 0,
            stored_revision: 0,
        }
    }
}

/// What an expired order knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpiredData {
    pub(super) aoid: Option<Aoid>,
    #[serde(with = "time::serde::rfc3339")]
    pub(super) expired_at: OffsetDateTime,
    /// Given up because XorPay refused the identical request for good: XorPay's order with
    /// this number, if any, is not this one, so a query about it proves nothing.
    pub(super) refused: bool,
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
