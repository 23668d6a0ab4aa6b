//! Fulfilment: every paid order handed to the merchant's hook, as
//! [`guarantees::fulfilment`](super::guarantees::fulfilment) says, each under its own claim
//! and lease.

use std::hash::{BuildHasher as _, Hasher as _};
use std::sync::atomic::{AtomicU64, Ordering};

use super::record;
use super::{Payments, ServiceOrder};
use crate::metrics::{self, HookRun};
use crate::order::StoredOrder;
use crate::store::{Claim, StoreError, Transition};

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
                    metrics::hook_ran("paid", HookRun::Failed);
                    continue;
                }
            };
            // Within the lease, or the claim could pass to another process mid-hook.
            match tokio::time::timeout(lease.mul_f64(0.9), hook.call(&paid)).await {
                Ok(Ok(())) => {
                    let now = self.now();
                    match store.mark_fulfilled(paid.order_id(), &token, now).await? {
                        Transition::Applied => {
                            report.fulfilled += 1;
                            metrics::hook_ran("paid", HookRun::Done);
                        }
                        Transition::NotApplied => {
                            report.taken_over += 1;
                            metrics::hook_ran("paid", HookRun::TakenOver);
                        }
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(order_id = paid.order_id(), %error, "fulfilment failed");
                    store.release_claim(paid.order_id(), &token, lease).await?;
                    report.failed += 1;
                    metrics::hook_ran("paid", HookRun::Failed);
                }
                Err(_) => {
                    tracing::warn!(order_id = paid.order_id(), "fulfilment outlasted its lease");
                    store.release_claim(paid.order_id(), &token, lease).await?;
                    report.failed += 1;
                    metrics::hook_ran("paid", HookRun::Failed);
                }
            }
        }
        Ok(report)
    }
}
