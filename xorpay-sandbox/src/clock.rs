//! The sandbox's clock: the system clock plus an offset that tests move forward, so that order
//! expiry can be tested without waiting (see [`crate::Sandbox::advance_clock`]).
//!
//! Only order times (creation, expiry, `pay_time`, refunds) use this clock. Notification
//! retries are real waits, scaled by the retry unit instead.
//!
//! Times shown to merchants are China Standard Time, UTC+8, as XorPay's `pay_time` presumably
//! is (docs/protocol.md §6.4).

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset, macros::format_description};

/// UTC+8.
const CHINA: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// How far the clock can be moved forward: a century, more than any order lifetime worth
/// testing, and little enough that the clock's time is always representable.
const MAX_OFFSET: Duration = Duration::from_secs(100 * 366 * 24 * 60 * 60);

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

    /// Moves the clock forward, at most [`MAX_OFFSET`] ahead of the system clock in all, and
    /// returns how far ahead it is now.
    pub(crate) fn advance(&self, by: Duration) -> Duration {
        let mut offset = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        *offset = offset.saturating_add(by).min(MAX_OFFSET);
        *offset
    }
}

/// `time` in China time, to the second. The calendar ends with the year 9999: later times (an
/// order lifetime of 10^12 seconds, say) show as its last second instead of failing.
fn china(time: SystemTime) -> OffsetDateTime {
    i64::try_from(unix_seconds(time))
        .ok()
        .and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok())
        .and_then(|utc| utc.checked_to_offset(CHINA))
        .unwrap_or(PrimitiveDateTime::MAX.assume_offset(CHINA))
}

/// `YYYY-MM-DD HH:MM:SS` in China time: the documented `pay_time` format, in the zone it is
/// presumed to be in (docs/protocol.md §6.4, §7).
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
    fn times_past_the_calendar_show_its_last_second() {
        // 253402300799 is 9999-12-31 23:59:59 UTC, the calendar's last second; China time is
        // eight hours ahead, so its last second is eight hours earlier in Unix time.
        let last = SystemTime::UNIX_EPOCH + Duration::from_secs(253_402_300_799 - 8 * 3600);
        assert_eq!(china_time(last), "9999-12-31 23:59:59");
        let past = last + Duration::from_secs(1);
        assert_eq!(china_time(past), "9999-12-31 23:59:59");
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000_000);
        assert_eq!(china_time(far), "9999-12-31 23:59:59");
        assert_eq!(china_date(far), "99991231");
    }

    #[test]
    fn advancing_stops_a_century_ahead() {
        let clock = Clock::default();
        assert_eq!(
            clock.advance(Duration::from_secs(60)),
            Duration::from_secs(60)
        );
        assert_eq!(clock.advance(Duration::MAX), MAX_OFFSET);
        assert_eq!(clock.advance(Duration::from_secs(1)), MAX_OFFSET);
        assert!(clock.now() > SystemTime::now() + MAX_OFFSET - Duration::from_secs(60));
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
