//! [`ConfigError`]: a setting the merchant gave is unusable.
//!
//! One type for every value that is configured rather than received: the app id, the app
//! secret, the service's URLs, a page's result URL. Each says which setting and why, in a
//! sentence that names the fix. This module imports nothing else of the crate.

use core::fmt;

/// A setting is unusable: which one, and why. Nothing was sent or stored.
///
/// ```
/// let error = xorpay::Aid::new("").unwrap_err();
/// assert_eq!(error.setting(), "aid");
/// assert_eq!(error.to_string(), "aid: it is empty");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {reason}")]
pub struct ConfigError {
    setting: &'static str,
    reason: String,
}

impl ConfigError {
    /// The setting is unusable for `reason`.
    pub(crate) fn new(setting: &'static str, reason: impl fmt::Display) -> ConfigError {
        ConfigError {
            setting,
            reason: reason.to_string(),
        }
    }

    /// The setting's name, as its builder method spells it (`"aid"`, `"notify_url"`, …).
    pub fn setting(&self) -> &'static str {
        self.setting
    }

    /// Why it is unusable, and what to do.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}
