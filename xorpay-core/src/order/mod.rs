//! The life of an order in types: [`Order<O, Created>`](Order) → [`Order<O, Pending>`](Order)
//! → [`Order<O, Paid>`](Order) (or [`Order<O, Expired>`](Order)).
//!
//! The merchant's own struct `O` (one that derives `XorPayOrder`) travels inside. Every
//! transition takes the order by value and gives back the next state, and each method exists
//! only in the states where it makes sense: there is no way to read the JSAPI parameters of
//! an order that was never submitted, to refund an unpaid one, or to mark one paid without a
//! [`VerifiedNotification`](crate::notify::VerifiedNotification) (or an authoritative query answer) that matches its `aoid`,
//! `order_id` and amount. A refused transition hands the order back inside the error, so
//! nothing is lost.
//!
//! States are sealed, uninhabited marker types; the data each state adds (the `aoid` and the
//! payer's instructions once pending, the payment once paid) lives in [`State::Data`], so it
//! exists exactly when the state does. Every state serialises; [`StoredOrder`] is the one way
//! back from storage, and it re-checks the stored order against its struct.
//!
//! This module performs no I/O and writes nothing: it is the vocabulary of the lifecycle
//! service (`Payments`, feature `client`), the one door through which orders move and
//! money is recorded. The service hands out typed orders (`checkout`, `order`) and takes them
//! back in the state each step needs (a refund takes an `&Order<O, Paid>`). The public
//! transitions here (confirming with a verified notification, expiring by the clock) are
//! pure: they prove a state, and the service records it.
//!
//! The module is split along its seams, each file below the ones that use it: `refund` (one
//! refund as recorded), `state` (the sealed states and what each knows), `transition` (how
//! an order moves), `paid` (what a paid order knows, and its `aoid` learnt late), `refunds`
//! (a paid order's refunds and their limits), `stored` (the way back from storage). This
//! file holds the order itself.

use core::fmt;
use core::marker::PhantomData;

use serde::Serialize;
use time::OffsetDateTime;

use crate::price::Price;
use crate::response::{Aoid, PaymentInfo};
use crate::status::BarcodeOutcome;

mod paid;
mod refund;
mod refunds;
mod state;
mod stored;
mod transition;

pub use refund::{Refund, RefundState};
pub use refunds::{MAX_REFUND_KEY, MAX_REFUNDS};
#[cfg_attr(not(feature = "client"), allow(unused_imports))]
pub(crate) use refunds::{RefundEnd, RefundLimit, RefundTicket, left_text};
pub use state::{
    ConfirmedBy, Created, Expired, ExpiredData, Paid, PaidData, Pending, PendingData, State,
};
pub use stored::StoredOrder;
#[cfg_attr(not(feature = "client"), allow(unused_imports))]
pub(crate) use transition::{Abandoned, QueryAnswer, Settled};
pub use transition::{ConfirmError, Expiry, Rejected};

/// A merchant order in state `S`: the merchant's struct `O` plus what the state knows.
///
/// The lifecycle service hands them out: `payments.checkout(order)` gives an
/// `Order<O, Pending>` (or a paid one), `payments.order(id)` any stored state as a
/// [`StoredOrder`]. [`Order::new`] builds a created one from a struct that derives
/// `XorPayOrder`, checking it as XorPay would.
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
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn known_aoid(&self) -> Option<&Aoid> {
        S::__aoid(&self.data)
    }

    /// When the order was submitted, in the pending state (for reconciliation queries).
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn known_submitted_at(&self) -> Option<OffsetDateTime> {
        S::__submitted_at(&self.data)
    }

    /// The refund record's revision, in the paid state; 0 otherwise (for stores).
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn known_revision(&self) -> u32 {
        S::__revision(&self.data)
    }

    /// When the order expired, in the expired state (for reconciliation's grace window).
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn known_expired_at(&self) -> Option<OffsetDateTime> {
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
        self.with::<Paid>(PaidData::by_query(aoid, price))
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

impl From<BarcodeOutcome> for PaymentInfo {
    fn from(outcome: BarcodeOutcome) -> PaymentInfo {
        PaymentInfo::Barcode(outcome)
    }
}
