//! The sandbox's clock: the system clock plus an offset that tests move forward, so that order
//! expiry can be tested without waiting (see [`crate::Sandbox::advance_clock`]).
//!
//! Only order times (creation, expiry, `pay_time`, refunds) use this clock. Notification
//! retries are real waits, scaled by the retry unit instead.
//!
//! Times shown to merchants are China Standard Time, UTC+8, as XorPay's `pay_time` presumably
//! is (PROTOCOL.md §6.4).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use time::{OffsetDateTime, UtcOffset, macros::format_description};

/// UTC+8.
const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// The system clock, moved forward by an offset.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset: Mutex<Duration>,
}

impl Clock {
    /// The sandbox's current time.
    pub(crate) fn now(&self) -> SystemTime {
        let offset = *self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        SystemTime::now()
            .checked_add(offset)
            .unwrap_or_else(SystemTime::now)
    }

    /// Moves the clock forward.
    pub(crate) fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        *offset = offset.saturating_add(by);
    }
}

fn china(time: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(time).to_offset(CHINA)
}

/// `YYYY-MM-DD HH:MM:SS` in China time: the documented `pay_time` format (§7).
pub(crate) fn china_time(time: SystemTime) -> String {
    china(time)
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// `YYYYMMDD` in China time, the prefix of an Alipay trade number.
pub(crate) fn china_date(time: SystemTime) -> String {
    china(time)
        .format(format_description!("[year][month][day]"))
        .unwrap_or_default()
}

/// Unix seconds.
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn china_time_is_utc_plus_eight() {
        // 2018-12-31 16:00:00 UTC is 2019-01-01 00:00:00 in China.
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_546_272_000);
        assert_eq!(china_time(time), "2019-01-01 00:00:00");
        assert_eq!(china_date(time), "20190101");
        assert_eq!(unix_seconds(time), 1_546_272_000);
    }

    #[test]
    fn advancing_moves_now() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        let after = clock.now();
        assert!(after.duration_since(before).unwrap() >= Duration::from_secs(3600));
    }
}
