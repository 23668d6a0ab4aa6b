//! The merchant's hook: one trait told of every outcome a shop acts on (an order paid, an
//! order expired for good, a refund made or not made, an order needing a person), the events
//! it is told of, and the erased form the service holds it in.

use core::fmt;
use core::future::Future;
use core::pin::Pin;

use crate::order::{Expired, Order, Paid, Refund, StoredOrder};

/// The merchant's hook, given to the service with `Payments::builder().hook(…)`: told of each
/// [`Event`] at least once, and each is recorded once told (as
/// [`guarantees::fulfilment`](super::guarantees::fulfilment) says). It must be idempotent,
/// keyed by the order number (and, for a refund, its key).
///
/// Write it as an `async fn` that matches the events it cares about; any error converts with
/// `?` or `.into()`:
///
/// ```
/// use xorpay::prelude::*;
///
/// # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
/// # #[xorpay(kind = native, notify_url = from_client)]
/// # struct Coffee { #[xorpay(order_id)] id: String, #[xorpay(name)] name: String, #[xorpay(price)] price: Price }
/// struct Shop;
///
/// impl Hook<Coffee> for Shop {
///     async fn on(&self, event: Event<'_, Coffee>) -> Result<(), HookError> {
///         match event {
///             Event::Paid(order) => {
///                 let line = format!("{}\n", order.order_id());
///                 std::fs::write("/tmp/shipped", line)?; // an io::Error converts
///             }
///             Event::Expired(order) => println!("release the stock of {}", order.order_id()),
///             Event::RefundMade { order, refund } => {
///                 println!("{}: {} refunded", order.order_id(), refund.amount());
///             }
///             Event::NeedsAttention { order, why } => {
///                 println!("someone must look at {}: {why}", order.order_id());
///             }
///             _ => {}
///         }
///         Ok(())
///     }
/// }
/// ```
///
/// The method must be `async` (or return a future that is `Send`): a plain `fn on` is refused
/// with "`Result<…>` is not a future".
///
/// Events of one order are not ordered among themselves: a hook that keeps failing on `Paid`
/// may be told `RefundMade` first. Each is told until it is recorded, at least once.
pub trait Hook<O>: Send + Sync + 'static {
    /// Acts on one event. An error leaves it untold: it is handed over again one lease later,
    /// and logged.
    fn on(&self, event: Event<'_, O>) -> impl Future<Output = Result<(), HookError>> + Send;
}

/// Why a hook failed: any error (`?` converts `std::io::Error` and the like, and
/// `"why".into()` a message). The event is handed over again later.
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// What the hook is told of. Each event is told once the service has recorded it, and only
/// while it still holds when its turn comes (a refund in doubt resolved meanwhile is no longer
/// told as needing attention).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a, O> {
    /// The order is paid: fulfil it (ship, credit the account). Told as soon as the payment
    /// is recorded.
    Paid(&'a Order<O, Paid>),
    /// The order expired and is no longer asked about: release what it held. Told an hour
    /// after the service stops asking XorPay about it
    /// ([`ReconcilePolicy::expired_grace`](super::ReconcilePolicy::expired_grace) after its
    /// expiry, 24 hours by default): until then a payer who paid at the last moment can still
    /// turn it paid. Not told while XorPay holds it as `fee_error` (the payer paid). A
    /// payment that still came later (XorPay's own retries end long before) would be recorded
    /// and told as `Paid`.
    Expired(&'a Order<O, Expired>),
    /// XorPay made the refund (it said so, or it was resolved by hand as made).
    RefundMade {
        /// The order, as stored when the hook is told.
        order: &'a Order<O, Paid>,
        /// The refund.
        refund: &'a Refund,
    },
    /// The refund was not made: XorPay refused it, could not be reached, or it was resolved
    /// by hand as not made.
    RefundNotMade {
        /// The order.
        order: &'a Order<O, Paid>,
        /// The refund.
        refund: &'a Refund,
    },
    /// A person must act on the order ([`Payments::needing_attention`](super::Payments::needing_attention)
    /// lists it too).
    NeedsAttention {
        /// The order, in whatever state it is stored.
        order: &'a StoredOrder<O>,
        /// Why.
        why: Attention,
    },
}

impl<O> Event<'_, O> {
    /// The order the event is about.
    pub fn order_id(&self) -> &str {
        match self {
            Event::Paid(order) => order.order_id(),
            Event::Expired(order) => order.order_id(),
            Event::RefundMade { order, .. } | Event::RefundNotMade { order, .. } => {
                order.order_id()
            }
            Event::NeedsAttention { order, .. } => order.order_id(),
        }
    }

    /// The event's name, as the `event` label of the `xorpay.hook.runs` metric names it:
    /// `paid`, `expired`, `refund_made`, `refund_not_made` or `attention`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Paid(_) => "paid",
            Event::Expired(_) => "expired",
            Event::RefundMade { .. } => "refund_made",
            Event::RefundNotMade { .. } => "refund_not_made",
            Event::NeedsAttention { .. } => "attention",
        }
    }
}

/// Why an order needs a person. Its `Display` says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Attention {
    /// A refund's outcome is still unknown after the time it may be resolved in: look on
    /// XorPay's dashboard, then `Payments::resolve_refund`.
    RefundInDoubt {
        /// The refund's key.
        key: String,
    },
    /// The payer paid, but XorPay could not take its fee (`fee_error`): top up the prepaid
    /// balance in XorPay's dashboard.
    FeeError,
    /// Paid, but no notification named its `aoid` within XorPay's retries: read it on XorPay's
    /// dashboard and record it (`Payments::record_aoid`), or it cannot be refunded.
    AoidUnknown,
}

impl fmt::Display for Attention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attention::RefundInDoubt { key } => {
                write!(
                    f,
                    "refund {key:?} is in doubt: resolve it from xorpay's dashboard"
                )
            }
            Attention::FeeError => f.write_str(
                "paid, but xorpay could not take its fee (fee_error): top up the prepaid balance",
            ),
            Attention::AoidUnknown => {
                f.write_str("paid, but its aoid is unknown: record it from xorpay's dashboard")
            }
        }
    }
}

/// What one run of the hooks did ([`Payments::run_hooks`](super::Payments::run_hooks)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HookRuns {
    /// Events told and recorded.
    pub done: usize,
    /// Events whose hook failed (or ran out of its lease): handed over again one lease later.
    pub failed: usize,
    /// Events whose hook ran, but whose claim another process took over (its lease ended
    /// first): that process tells it again.
    pub taken_over: usize,
}

type Boxed<'a> = Pin<Box<dyn Future<Output = Result<(), HookError>> + Send + 'a>>;

/// [`Hook`] with a boxed future, so that the service can hold any hook.
pub(super) trait Erased<O>: Send + Sync {
    fn call<'a>(&'a self, event: Event<'a, O>) -> Boxed<'a>;
}

impl<O: Sync, H: Hook<O>> Erased<O> for H {
    fn call<'a>(&'a self, event: Event<'a, O>) -> Boxed<'a> {
        Box::pin(self.on(event))
    }
}
