//! The hook sweep ([`Payments::run_hooks`]): every paid order handed to the merchant's hook
//! as [`Event::Paid`], as [`guarantees::fulfilment`](super::guarantees::fulfilment) says, each
//! under its own claim and lease on the order's row; then every other event due, from the
//! store's event rows (`tell.rs`).

use std::time::Instant;

use super::hook::{Event, HookRuns};
use super::lease::{tell_within, token};
use super::record;
use super::{Payments, ServiceOrder};
use crate::metrics::{self, HookRun};
use crate::order::StoredOrder;
use crate::store::{Claim, StoreError, Transition};

impl<O: ServiceOrder> Payments<O> {
    /// Tells the hook given to the builder of every event due, one at a time, each under its
    /// own claim, and records those told: every paid order not yet fulfilled, then orders
    /// expired for good, refunds made or not made, and orders needing a person. An event
    /// whose hook failed is handed over again one lease later (by a later sweep), so one that
    /// keeps failing never holds up the others. Returns when nothing claimable is left. The
    /// background work calls it; call it yourself only with `.no_background()`. Without a
    /// hook it does nothing.
    ///
    /// # Errors
    /// [`StoreError`]; what was recorded stays recorded. Safe to call again at any time, from
    /// any number of processes.
    pub async fn run_hooks(&self) -> Result<HookRuns, StoreError> {
        self.run_hooks_until(|| false).await
    }

    /// [`Payments::run_hooks`], claiming nothing more once `stop` says so.
    pub(super) async fn run_hooks_until(
        &self,
        stop: impl Fn() -> bool,
    ) -> Result<HookRuns, StoreError> {
        let mut report = HookRuns::default();
        if self.inner.hook.is_none() {
            return Ok(report);
        }
        self.fulfil_until(&stop, &mut report).await?;
        self.tell_until(&stop, &mut report).await?;
        Ok(report)
    }

    /// Hands every paid, unfulfilled order to the hook, counting into `report`.
    async fn fulfil_until(
        &self,
        stop: &impl Fn() -> bool,
        report: &mut HookRuns,
    ) -> Result<(), StoreError> {
        let Some(hook) = &self.inner.hook else {
            return Ok(());
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
            // The lease is counted from here: a claim's answer can wait behind a busy writer's
            // queue, which must not eat the hook's time.
            let at = Instant::now();
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
            let run = if tell_within(hook.as_ref(), Event::Paid(&paid), lease, at).await {
                let now = self.now();
                match store.mark_fulfilled(paid.order_id(), &token, now).await? {
                    Transition::Applied => HookRun::Done,
                    Transition::NotApplied => HookRun::TakenOver,
                }
            } else {
                store.release_claim(paid.order_id(), &token, lease).await?;
                HookRun::Failed
            };
            report.count(run);
            metrics::hook_ran("paid", run);
        }
        Ok(())
    }
}

impl HookRuns {
    /// Counts one run.
    pub(super) fn count(&mut self, run: HookRun) {
        match run {
            HookRun::Done => self.done += 1,
            HookRun::Failed => self.failed += 1,
            HookRun::TakenOver => self.taken_over += 1,
        }
    }
}
