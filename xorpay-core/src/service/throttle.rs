//! [`Throttle`]: background work done at most once per period, however often the service
//! wakes (a payment wakes it at once): the gauges' reading and pruning.

use core::time::Duration;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// At most once per `every`.
pub(super) struct Throttle {
    every: Duration,
    last: Mutex<Option<Instant>>,
}

impl Throttle {
    pub(super) fn new(every: Duration) -> Throttle {
        Throttle {
            every,
            last: Mutex::new(None),
        }
    }

    /// Whether the work is due now; if so, the next time is a period away.
    pub(super) fn ready(&self) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < self.every) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// The work is due again at once (it was cut short).
    pub(super) fn again(&self) {
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}
