//! Fulfilment: every paid order handed to the merchant's hook at least once, and recorded
//! fulfilled once.
//!
//! Each order is claimed first, under a token, for a lease counted on the database's clock:
//! several processes sweeping at once never hand one order to the hook together, and a claim
//! whose holder died is taken over once its lease ends. A holder killed after its hook ran
//! and before it recorded the fulfilment causes one more delivery: that is why the hook must
//! be idempotent, keyed by the order number.

use core::future::Future;
use core::pin::Pin;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use super::record;
use super::{Payments, ServiceOrder};
use crate::order::{Order, Paid, StoredOrder};
use crate::store::{Claim, StoreError, Transition};

/// The merchant's fulfilment (ship the goods, credit the account), given to the service with
/// `Payments::builder().fulfil(…)`. Called at least once per paid order (more only when a
/// process died between running it and recording it), so it must be idempotent, keyed by
/// the order number.
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

/// What [`Payments::fulfil_paid`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fulfilled {
    /// Orders fulfilled and recorded.
    pub fulfilled: usize,
    /// Orders whose hook failed (or ran out of its lease): handed over again one lease later.
    pub failed: usize,
    /// Orders whose hook ran, but whose claim another process took over (its lease ended
    /// first): that process runs the hook again.
    pub taken_over: usize,
}

/// A claim token nobody else holds: a per-process random part and a counter.
fn token() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "{random:016x}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl<O: ServiceOrder> Payments<O> {
    /// Hands every paid, unfulfilled order to the hook given to the builder, one at a time,
    /// each under its own claim, and records those it fulfilled. An order whose hook failed
    /// is handed over again one lease later (by a later sweep), so one order that keeps
    /// failing never holds up the others. Returns when no claimable order is left. The
    /// background work calls it; call it yourself only with `.no_background()`. Without a
    /// hook it does nothing.
    ///
    /// # Errors
    /// [`StoreError`]; what was recorded stays recorded. Safe to call again at any time, from
    /// any number of processes.
    pub async fn fulfil_paid(&self) -> Result<Fulfilled, StoreError> {
        self.fulfil_until(|| false).await
    }

    /// [`Payments::fulfil_paid`], claiming nothing more once `stop` says so.
    pub(super) async fn fulfil_until(
        &self,
        stop: impl Fn() -> bool,
    ) -> Result<Fulfilled, StoreError> {
        let mut report = Fulfilled::default();
        let Some(hook) = &self.inner.hook else {
            return Ok(report);
        };
        let store = &self.inner.store;
        let lease = self.inner.lease;
        while !stop() {
            // One order per claim: each hook gets the whole lease to itself.
            let token = token();
            let claim = Claim {
                order_id: None,
                token: &token,
                lease,
                limit: 1,
            };
            let Some(claimed) = store.claim(&claim).await?.pop() else {
                break;
            };
            let paid = match record::typed::<O>(&claimed) {
                Ok(StoredOrder::Paid(paid)) => paid,
                Ok(_) | Err(_) => {
                    tracing::error!(
                        order_id = claimed.order_id,
                        "fulfilment: unreadable paid order"
                    );
                    store
                        .release_claim(&claimed.order_id, &token, lease)
                        .await?;
                    report.failed += 1;
                    continue;
                }
            };
            // Within the lease, or the claim could pass to another process mid-hook.
            match tokio::time::timeout(lease.mul_f64(0.9), hook.call(&paid)).await {
                Ok(Ok(())) => {
                    let now = self.now();
                    match store.mark_fulfilled(paid.order_id(), &token, now).await? {
                        Transition::Applied => report.fulfilled += 1,
                        Transition::NotApplied => report.taken_over += 1,
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(order_id = paid.order_id(), %error, "fulfilment failed");
                    store.release_claim(paid.order_id(), &token, lease).await?;
                    report.failed += 1;
                }
                Err(_) => {
                    tracing::warn!(order_id = paid.order_id(), "fulfilment outlasted its lease");
                    store.release_claim(paid.order_id(), &token, lease).await?;
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}
