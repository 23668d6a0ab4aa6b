//! The merchant's fulfilment hook, and the erased form the service holds it in.

use core::future::Future;
use core::pin::Pin;

use crate::order::{Order, Paid};

/// The merchant's fulfilment (ship the goods, credit the account), given to the service with
/// `Payments::builder().fulfil(…)`. It must be idempotent, keyed by the order number: why is
/// [`guarantees::fulfilment`](super::guarantees::fulfilment).
///
/// Write it as an `async fn`; any error converts with `?` or `.into()`:
///
/// ```
/// use xorpay::prelude::*;
///
/// # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
/// # #[xorpay(kind = native, notify_url = from_client)]
/// # struct Coffee { #[xorpay(order_id)] id: String, #[xorpay(name)] name: String, #[xorpay(price)] price: Price }
/// struct Ship;
///
/// impl Fulfil<Coffee> for Ship {
///     async fn fulfil(&self, order: &Order<Coffee, Paid>) -> Result<(), FulfilError> {
///         let line = format!("{}\n", order.order_id());
///         std::fs::write("/tmp/shipped", line)?; // an io::Error converts
///         if order.paid_price() > "100.00".parse()? {
///             return Err("too large for the demo".into());
///         }
///         Ok(())
///     }
/// }
/// ```
///
/// The method must be `async` (or return a future that is `Send`): a plain `fn fulfil` is
/// refused with "expected future, found `Result`".
pub trait Fulfil<O>: Send + Sync + 'static {
    /// Fulfils one paid order. An error leaves it unfulfilled: it is handed over again one
    /// lease later, and logged.
    fn fulfil(
        &self,
        order: &Order<O, Paid>,
    ) -> impl Future<Output = Result<(), FulfilError>> + Send;
}

/// Why a fulfilment hook failed: any error (`?` converts `std::io::Error` and the like, and
/// `"why".into()` a message). The order is handed over again later.
pub type FulfilError = Box<dyn std::error::Error + Send + Sync>;

type Boxed<'a> = Pin<Box<dyn Future<Output = Result<(), FulfilError>> + Send + 'a>>;

/// [`Fulfil`] with a boxed future, so that the service can hold any hook.
pub(super) trait Hook<O>: Send + Sync {
    fn call<'a>(&'a self, order: &'a Order<O, Paid>) -> Boxed<'a>;
}

impl<O: Sync, H: Fulfil<O>> Hook<O> for H {
    fn call<'a>(&'a self, order: &'a Order<O, Paid>) -> Boxed<'a> {
        Box::pin(self.fulfil(order))
    }
}
