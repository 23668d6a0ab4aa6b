//! The service's clock: the system's, or one a test sets and moves.

use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

/// Where the lifecycle service reads the time: the system clock by default, or a manual one
/// that tests move forward ([`Clock::manual`]).
///
/// The service stamps every record with it, decides with it when orders are stale or expired
/// and when a refund in doubt may be resolved. Fulfilment leases are the exception: they are
/// counted on the database's clock, which every process sharing it agrees on.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `start` until moved with [`Clock::advance`] or
    /// [`Clock::set`]. Its clones share the time.
    pub fn manual(start: OffsetDateTime) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(start))),
        }
    }

    /// The time now.
    pub fn now(&self) -> OffsetDateTime {
        match &self.manual {
            None => OffsetDateTime::now_utc(),
            Some(time) => *time.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Moves a manual clock forward by `by` (a system clock ignores it).
    pub fn advance(&self, by: time::Duration) {
        if let Some(time) = &self.manual {
            let mut time = time.lock().unwrap_or_else(PoisonError::into_inner);
            *time = time.saturating_add(by);
        }
    }

    /// Sets a manual clock to `to` (a system clock ignores it).
    pub fn set(&self, to: OffsetDateTime) {
        if let Some(time) = &self.manual {
            *time.lock().unwrap_or_else(PoisonError::into_inner) = to;
        }
    }
}

/// `wait` after `at`, or the last time the clock holds when that is later: a wait of
/// `Duration::MAX` is forever, not an overflow.
pub(super) fn after(at: OffsetDateTime, wait: core::time::Duration) -> OffsetDateTime {
    at.saturating_add(time::Duration::try_from(wait).unwrap_or(time::Duration::MAX))
}

/// `span` before `at`, or the first time the clock holds when that is earlier.
pub(super) fn before(at: OffsetDateTime, span: core::time::Duration) -> OffsetDateTime {
    at.saturating_sub(time::Duration::try_from(span).unwrap_or(time::Duration::MAX))
}
