//! The merchant's credentials: the app id [`Aid`] and the [`AppSecret`].
//!
//! The secret is the only thing standing between a merchant and forged payments, so this
//! module makes it hard to leak: it has no `Serialize`, its `Debug` and `Display` print a
//! redaction, it is zeroized when dropped, and its bytes are readable only inside this crate
//! (by the signer). This module does not read environment variables or files; the caller
//! decides where credentials come from.

use core::fmt;

use zeroize::Zeroize;

/// Why an [`Aid`] or [`AppSecret`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The aid is empty.
    #[error("aid is empty")]
    EmptyAid,
    /// The aid holds a character that cannot go into a URL path segment unescaped.
    #[error("aid has an invalid character {character:?}; XorPay aids are short numbers")]
    InvalidAid {
        /// The offending character.
        character: char,
    },
    /// The aid is longer than 64 characters.
    #[error("aid is longer than 64 characters")]
    AidTooLong,
    /// The secret is empty.
    #[error("app secret is empty")]
    EmptySecret,
    /// The secret starts or ends with whitespace, usually a newline read from a file or an
    /// environment variable. XorPay would answer every request with `sign_error`.
    #[error("app secret has leading or trailing whitespace (a stray newline?)")]
    SecretWhitespace,
}

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
/// # Ok::<(), xorpay::CredentialError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Aid(String);

impl Aid {
    /// Checks and wraps an app id.
    ///
    /// # Errors
    /// [`CredentialError::EmptyAid`], [`CredentialError::AidTooLong`] or
    /// [`CredentialError::InvalidAid`].
    pub fn new(aid: impl Into<String>) -> Result<Aid, CredentialError> {
        let aid = aid.into();
        if aid.is_empty() {
            return Err(CredentialError::EmptyAid);
        }
        if aid.len() > 64 {
            return Err(CredentialError::AidTooLong);
        }
        if let Some(character) = aid.chars().find(|&c| !is_path_safe(c)) {
            return Err(CredentialError::InvalidAid { character });
        }
        Ok(Aid(aid))
    }

    /// The app id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Characters that can sit in a URL path segment without escaping and without meaning.
pub(crate) fn is_path_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

impl TryFrom<String> for Aid {
    type Error = CredentialError;
    fn try_from(aid: String) -> Result<Aid, CredentialError> {
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
/// # Ok::<(), xorpay::CredentialError>(())
/// ```
#[derive(Clone)]
pub struct AppSecret(String);

impl AppSecret {
    /// Checks and wraps an app secret. The secret is not trimmed: surrounding whitespace is
    /// refused, because XorPay would refuse every signature made with it.
    ///
    /// # Errors
    /// [`CredentialError::EmptySecret`] or [`CredentialError::SecretWhitespace`].
    pub fn new(secret: impl Into<String>) -> Result<AppSecret, CredentialError> {
        // Wrap first, so the input is zeroized even when it is refused.
        let secret = AppSecret(secret.into());
        if secret.0.is_empty() {
            return Err(CredentialError::EmptySecret);
        }
        if secret.0.starts_with(char::is_whitespace) || secret.0.ends_with(char::is_whitespace) {
            return Err(CredentialError::SecretWhitespace);
        }
        Ok(secret)
    }

    /// The secret's bytes, for the signer only.
    pub(crate) fn expose(&self) -> &[u8] {
        self.0.as_bytes()
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

    #[test]
    fn aid_accepts_numbers_and_refuses_path_breakers() {
        assert_eq!(Aid::new("999").unwrap().as_str(), "999");
        assert_eq!(Aid::new(""), Err(CredentialError::EmptyAid));
        assert_eq!(
            Aid::new("1?x=2"),
            Err(CredentialError::InvalidAid { character: '?' })
        );
        assert_eq!(Aid::new("7".repeat(65)), Err(CredentialError::AidTooLong));
        assert!(serde_json::from_str::<Aid>(r#""../x""#).is_err());
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
            AppSecret::new("").unwrap_err(),
            CredentialError::EmptySecret
        );
        assert_eq!(
            AppSecret::new("abc\n").unwrap_err(),
            CredentialError::SecretWhitespace
        );
        assert_eq!(
            AppSecret::new("\tabc").unwrap_err(),
            CredentialError::SecretWhitespace
        );
    }
}
