//! The service's background work: reconciliation, the hooks and (when asked for) pruning
//! every `sweep_every`, and the hooks at once after each recorded payment.
//!
//! The service owns the task; nothing the merchant holds can stop it by being dropped. The
//! task holds the service weakly, so it ends when the last [`Payments`] handle is dropped,
//! after the step it is in. [`Payments::shutdown`] ends it gracefully: the hook call in
//! flight finishes and is recorded (told, or its claim released), and nothing new is
//! claimed.

use core::time::Duration;
use std::sync::{Arc, PoisonError, Weak};

use super::signals::Signals;
use super::{Inner, Payments, ServiceOrder};

impl<O: ServiceOrder> Payments<O> {
    /// Starts the background task on `runtime`.
    pub(super) fn start_background(&self, runtime: &tokio::runtime::Handle, every: Duration) {
        let service = Arc::downgrade(&self.inner);
        let signals = Arc::clone(&self.inner.signals);
        let task = runtime.spawn(run(service, signals, every));
        *self
            .inner
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(task);
    }

    /// Stops the background work gracefully and waits for it: a hook call in flight finishes
    /// and is recorded (told, or its claim released for another sweep), and nothing new
    /// is claimed or reconciled. Call it before the process exits. The service still answers
    /// every call afterwards; only the background work is over.
    pub async fn shutdown(&self) {
        self.inner.signals.stop();
        let task = self
            .inner
            .background
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && let Err(error) = task.await
            && error.is_panic()
        {
            tracing::error!("the background work panicked");
        }
    }

    /// One round: reconciliation, then the hooks, each stopping early when told to.
    async fn sweep(&self) {
        let signals = &self.inner.signals;
        match self.reconcile_until(|| signals.stopping(), |_, _| {}).await {
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
        if let Err(error) = self.run_hooks_until(|| signals.stopping()).await {
            tracing::warn!(%error, "hook sweep failed");
        }
        self.prune_if_due(|| signals.stopping()).await;
    }
}

/// The task: a round, then a wait for the next (the period, a payment, or the stop).
async fn run<O: ServiceOrder>(service: Weak<Inner<O>>, signals: Arc<Signals>, every: Duration) {
    loop {
        if signals.stopping() {
            return;
        }
        // Held for the round only: the last handle dropped meanwhile ends the task after it.
        match service.upgrade() {
            Some(inner) => Payments { inner }.sweep().await,
            None => return,
        }
        // Until the period is over, a payment is recorded, or the work is to stop.
        signals.wait(every).await;
    }
}
