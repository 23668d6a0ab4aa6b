//! Fulfilment: every paid order handed to the merchant's hook at least once, and recorded
//! fulfilled once.
//!
//! Each order is claimed first, under a token, for a lease counted on the database's clock:
//! several processes sweeping at once never hand one order to the hook together, and a claim
//! whose holder died is taken over once its lease ends. A holder killed after its hook ran
//! and before it recorded the fulfilment causes one more delivery: that is why the hook must
//! be idempotent, keyed by the order number.

use core::future::Future;
use core::time::Duration;
use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use super::record;
use super::{Payments, ServiceOrder};
use crate::order::{Order, Paid, StoredOrder};
use crate::store::{Claim, OrderStore, StoreError, Transition};

/// The merchant's fulfilment: ship the goods, credit the account. Called at least once per
/// paid order (more only when a process died between running it and recording it), so it
/// must be idempotent, keyed by the order number.
pub trait Fulfil<O>: Send + Sync {
    /// Fulfils one paid order. An error leaves it unfulfilled: it is handed over again by the
    /// next sweep.
    fn fulfil(
        &self,
        order: &Order<O, Paid>,
    ) -> impl Future<Output = Result<(), FulfilError>> + Send;
}

/// Why a fulfilment hook failed; the order is handed over again later.
#[derive(Debug, thiserror::Error)]
#[error("fulfilment failed: {0}")]
pub struct FulfilError(pub String);

impl FulfilError {
    /// A failure, described.
    pub fn new(reason: impl Into<String>) -> FulfilError {
        FulfilError(reason.into())
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

impl<O: ServiceOrder, S: OrderStore> Payments<O, S> {
    /// Hands every paid, unfulfilled order to `hook`, one at a time, each under its own
    /// claim, and records those it fulfilled. An order whose hook failed is handed over again
    /// one lease later (by this sweep's successor, not by this sweep), so one order that keeps
    /// failing never holds up the others. Returns when no claimable order is left.
    ///
    /// # Errors
    /// [`StoreError`]; what was recorded stays recorded. Safe to call again at any time, from
    /// any number of processes.
    pub async fn fulfil_paid(&self, hook: &impl Fulfil<O>) -> Result<Fulfilled, StoreError> {
        let store = &self.inner.store;
        let lease = self.inner.lease;
        let mut report = Fulfilled::default();
        loop {
            // One order per claim: each hook gets the whole lease to itself.
            let token = token();
            let Some(claimed) = store
                .claim(&Claim {
                    order_id: None,
                    token: &token,
                    lease,
                    limit: 1,
                })
                .await?
                .pop()
            else {
                return Ok(report);
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
            match tokio::time::timeout(lease.mul_f64(0.9), hook.fulfil(&paid)).await {
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
    }

    /// Runs reconciliation and the fulfilment sweep every `every`, and the sweep at once
    /// whenever a payment is recorded, until the returned handle is dropped (or stopped).
    /// Needs a tokio runtime.
    pub fn run_in_background<H>(&self, hook: H, every: Duration) -> InBackground
    where
        H: Fulfil<O> + 'static,
    {
        let payments = self.clone();
        InBackground(tokio::spawn(async move {
            loop {
                match payments.reconcile().await {
                    Ok(report) => {
                        for order_id in &report.fee_error {
                            tracing::warn!(
                                order_id,
                                "paid, but xorpay could not take its fee (fee_error): top up the prepaid balance"
                            );
                        }
                    }
                    Err(error) => tracing::warn!(%error, "reconcile failed"),
                }
                if let Err(error) = payments.fulfil_paid(&hook).await {
                    tracing::warn!(%error, "fulfilment sweep failed");
                }
                let _ = tokio::time::timeout(every, payments.inner.paid.notified()).await;
            }
        }))
    }
}

/// The background task of [`Payments::run_in_background`]: stopped when dropped.
#[derive(Debug)]
#[must_use = "the background task stops when this is dropped"]
pub struct InBackground(tokio::task::JoinHandle<()>);

impl InBackground {
    /// Stops the task.
    pub fn stop(self) {}
}

impl Drop for InBackground {
    fn drop(&mut self) {
        self.0.abort();
    }
}
