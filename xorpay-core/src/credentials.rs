//! The merchant's credentials: the app id [`Aid`] and the [`AppSecret`].
//!
//! The secret is the only thing standing between a merchant and forged payments, so this
//! module makes it hard to leak: it has no `Serialize`, its `Debug` and `Display` print a
//! redaction, it is zeroized when dropped, and its bytes are readable only inside this crate
//! (by the signer). This module does not read environment variables or files; the caller
//! decides where credentials come from.

use core::fmt;

use zeroize::Zeroize;

use crate::config::ConfigError;

/// The merchant's XorPay app id (`aid`), which goes into request URLs.
///
/// XorPay's aids are short numbers; this type accepts ASCII letters, digits, `-` and `_`, up
/// to 64 characters, so that it can always be placed in a URL path unescaped.
///
/// ```
/// use xorpay::Aid;
/// let aid = Aid::new("999")?;
/// assert_eq!(aid.as_str(), "999");
/// assert!(Aid::new("9/9").is_err());
/// # Ok::<(), xorpay::ConfigError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Aid(String);

impl Aid {
    /// Checks and wraps an app id.
    ///
    /// # Errors
    /// A [`ConfigError`] for an aid that is empty, longer than 64 characters, or holds a
    /// character other than ASCII letters, digits, `-` and `_`.
    pub fn new(aid: impl Into<String>) -> Result<Aid, ConfigError> {
        let aid = aid.into();
        if aid.is_empty() {
            return Err(ConfigError::new("aid", "it is empty"));
        }
        if aid.len() > 64 {
            return Err(ConfigError::new("aid", "it is longer than 64 characters"));
        }
        if let Some(character) = aid.chars().find(|&c| !is_path_safe(c)) {
            return Err(ConfigError::new(
                "aid",
                format_args!("it has the character {character:?}; XorPay's aids are short numbers"),
            ));
        }
        Ok(Aid(aid))
    }

    /// The app id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What makes this aid unlike XorPay's, if anything: every aid XorPay shows is a short
    /// number. Unusual, not refused (XorPay does not document the form); the service warns
    /// of it when built, and `xorpay doctor` reports it.
    ///
    /// ```
    /// use xorpay::Aid;
    /// assert_eq!(Aid::new("1000")?.oddity(), None);
    /// assert!(Aid::new("shop-1")?.oddity().is_some());
    /// # Ok::<(), xorpay::ConfigError>(())
    /// ```
    pub fn oddity(&self) -> Option<&'static str> {
        (!self.0.bytes().all(|b| b.is_ascii_digit()))
            .then_some("it is not all digits, and every aid XorPay gives is a number")
    }
}

/// Characters that can sit in a URL path segment without escaping and without meaning.
pub(crate) fn is_path_safe(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_path_safe_byte)
}

/// [`is_path_safe`] for one byte, through a table: aoids are checked on every notification.
pub(crate) fn is_path_safe_byte(byte: u8) -> bool {
    PATH_SAFE[usize::from(byte)]
}

/// Whether every byte of `bytes` is [`is_path_safe`]: without a branch per byte, so that the
/// 32 bytes of an aoid are looked up side by side (aoids are checked on every notification).
pub(crate) fn all_path_safe(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .fold(true, |safe, &byte| safe & PATH_SAFE[usize::from(byte)])
}

/// ASCII letters, digits, `-` and `_`.
const PATH_SAFE: [bool; 256] = {
    let mut safe = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        safe[byte] = b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        byte += 1;
    }
    safe
};

impl TryFrom<String> for Aid {
    type Error = ConfigError;
    fn try_from(aid: String) -> Result<Aid, ConfigError> {
        Aid::new(aid)
    }
}

impl From<Aid> for String {
    fn from(aid: Aid) -> String {
        aid.0
    }
}

impl fmt::Display for Aid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Aid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Aid").field(&self.0).finish()
    }
}

/// The merchant's app secret: the last element of every signature, never sent anywhere.
///
/// It cannot be serialised, prints as a redaction, and is zeroized on drop. Build it from
/// wherever you keep secrets:
///
/// ```
/// use xorpay::AppSecret;
/// let secret = AppSecret::new("0123456789abcdef0123456789abcdef")?;
/// assert_eq!(format!("{secret:?}"), "AppSecret(<redacted>)");
/// assert_eq!(secret.to_string(), "<redacted>");
/// # Ok::<(), xorpay::ConfigError>(())
/// ```
///
/// A configuration file can hold it: `AppSecret` is `Deserialize` (checked as by
/// [`AppSecret::new`]). It is never `Serialize`, so a struct holding it cannot derive
/// `Serialize`; serde's message then suggests a "`serde` feature flag", which does not exist
/// here on purpose: keep the secret out of whatever you write back.
#[derive(Clone)]
pub struct AppSecret(String);

impl AppSecret {
    /// Checks and wraps an app secret. The secret is not trimmed: surrounding whitespace is
    /// refused, because XorPay would refuse every signature made with it.
    ///
    /// # Errors
    /// A [`ConfigError`] for an empty secret, or one with leading or trailing whitespace
    /// (usually a newline read from a file or an environment variable: XorPay would answer
    /// every request with `sign_error`).
    pub fn new(secret: impl Into<String>) -> Result<AppSecret, ConfigError> {
        // Wrap first, so the input is zeroized even when it is refused.
        let secret = AppSecret(secret.into());
        if secret.0.is_empty() {
            return Err(ConfigError::new("secret", "it is empty"));
        }
        if secret.0.starts_with(char::is_whitespace) || secret.0.ends_with(char::is_whitespace) {
            return Err(ConfigError::new(
                "secret",
                "it has leading or trailing whitespace (a stray newline?): XorPay would answer \
                 every request with sign_error",
            ));
        }
        Ok(secret)
    }

    /// What makes this secret unlike XorPay's, if anything: every secret XorPay shows is 32
    /// lowercase hex characters. Unusual, not refused (XorPay does not document the form);
    /// the service warns of it when built, and `xorpay doctor` reports it. The answer never
    /// quotes the secret.
    ///
    /// ```
    /// use xorpay::AppSecret;
    /// assert_eq!(AppSecret::new("0123456789abcdef0123456789abcdef")?.oddity(), None);
    /// assert!(AppSecret::new("0123456789ABCDEF0123456789ABCDEF")?.oddity().is_some());
    /// # Ok::<(), xorpay::ConfigError>(())
    /// ```
    pub fn oddity(&self) -> Option<&'static str> {
        let hex = self
            .0
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        (self.0.len() != 32 || !hex).then_some(
            "it is not 32 lowercase hex characters, the form of every secret XorPay gives \
             (a secret copied in part, or another account's key?)",
        )
    }

    /// The secret's bytes, for the signer only.
    pub(crate) fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl<'de> serde::Deserialize<'de> for AppSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<AppSecret, D::Error> {
        let text = zeroize::Zeroizing::new(String::deserialize(deserializer)?);
        AppSecret::new(text.as_str()).map_err(serde::de::Error::custom)
    }
}

impl Drop for AppSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppSecret(<redacted>)")
    }
}

impl fmt::Display for AppSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every place of an aoid-long text: the text is path-safe exactly
    /// when that byte is.
    #[test]
    fn all_path_safe_looks_at_every_byte() {
        for at in 0..32 {
            for byte in 0..=u8::MAX {
                let mut text = *b"e19c8c8673ba42419043fc92b99303c1";
                text[at] = byte;
                let safe = byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_';
                assert_eq!(all_path_safe(&text), safe, "{byte:#x} at {at}");
            }
        }
        assert!(all_path_safe(b""));
    }

    #[test]
    fn aid_accepts_numbers_and_refuses_path_breakers() {
        assert_eq!(Aid::new("999").unwrap().as_str(), "999");
        assert_eq!(Aid::new("").unwrap_err().to_string(), "aid: it is empty");
        let error = Aid::new("1?x=2").unwrap_err();
        assert_eq!(error.setting(), "aid");
        assert!(error.reason().contains("'?'"), "{error}");
        assert!(Aid::new("7".repeat(65)).is_err());
        assert!(serde_json::from_str::<Aid>(r#""../x""#).is_err());
        assert_eq!(Aid::new("1000").unwrap().oddity(), None);
        assert!(Aid::new("abc").unwrap().oddity().is_some());
    }

    #[test]
    fn secret_is_redacted_everywhere_it_could_be_printed() {
        let secret = AppSecret::new("super-secret-value").unwrap();
        for printed in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
        ] {
            assert!(!printed.contains("super"), "{printed}");
        }
        let error = AppSecret::new(" super-secret-value\n").unwrap_err();
        assert!(!format!("{error} {error:?}").contains("super"));
    }

    #[test]
    fn secret_refuses_empty_and_whitespace() {
        assert_eq!(
            AppSecret::new("").unwrap_err().to_string(),
            "secret: it is empty"
        );
        for stray in ["abc\n", "\tabc"] {
            let error = AppSecret::new(stray).unwrap_err();
            assert!(error.reason().contains("whitespace"), "{error}");
        }
    }

    #[test]
    fn secrets_of_xorpays_shape_raise_no_warning() {
        let secret = AppSecret::new("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(secret.oddity(), None);
        for odd in ["short", "0123456789ABCDEF0123456789ABCDEF"] {
            assert!(AppSecret::new(odd).unwrap().oddity().is_some(), "{odd}");
        }
    }

    #[test]
    fn a_secret_reads_from_a_config_file_and_is_checked() {
        #[derive(serde::Deserialize)]
        struct Config {
            secret: AppSecret,
        }
        let config: Config =
            serde_json::from_str(r#"{"secret":"0123456789abcdef0123456789abcdef"}"#).unwrap();
        assert_eq!(format!("{:?}", config.secret), "AppSecret(<redacted>)");
        let error = serde_json::from_str::<Config>(r#"{"secret":"abc\n"}"#)
            .err()
            .unwrap();
        assert!(error.to_string().contains("whitespace"), "{error}");
    }
}
