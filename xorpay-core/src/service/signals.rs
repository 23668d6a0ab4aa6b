//! What wakes the service's background work, and what stops it.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::Notify;

/// What wakes the background work, and what stops it. Shared by the service and its task,
/// so that the task can be told to stop while it holds no handle to the service.
pub(super) struct Signals {
    /// Wakes the task: a payment was recorded, or it is to stop.
    wake: Notify,
    stop: AtomicBool,
}

impl Signals {
    pub(super) fn new() -> Signals {
        Signals {
            wake: Notify::new(),
            stop: AtomicBool::new(false),
        }
    }

    /// A payment or a refund's outcome was recorded: tell the hook at once.
    pub(super) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stop after the current step. A task between steps wakes (the permit waits for it if
    /// it is not waiting yet).
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Waits until woken or until `every` has passed, whichever comes first.
    pub(super) async fn wait(&self, every: core::time::Duration) {
        let _ = tokio::time::timeout(every, self.wake.notified()).await;
    }

    /// Whether the work is to stop.
    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}
