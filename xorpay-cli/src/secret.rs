//! Where the app secret comes from: `XORPAY_APP_SECRET`, or `--secret-file`. Never an
//! argument: arguments show in `ps` and in shell history.

use std::path::PathBuf;

use clap::Args;
use xorpay::AppSecret;
use zeroize::Zeroizing;

use crate::failure::Failure;

/// The environment variable the secret is read from, as the examples read it.
pub(crate) const SECRET_VAR: &str = "XORPAY_APP_SECRET";

/// The secret's source, shared by every command that signs.
#[derive(Args)]
pub(crate) struct SecretArgs {
    /// Read the app secret from FILE (one trailing newline is dropped) instead of the
    /// XORPAY_APP_SECRET environment variable. The secret itself is never an argument.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
}

/// The secret's text as found, before any check, and where it was found.
pub(crate) struct RawSecret {
    pub(crate) text: Zeroizing<String>,
    pub(crate) source: String,
}

impl SecretArgs {
    /// The secret's text as found (the doctor examines it), or `None` when none is set.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub(crate) fn raw(&self) -> Result<Option<RawSecret>, Failure> {
        if let Some(path) = &self.secret_file {
            let text = std::fs::read_to_string(path).map_err(|error| {
                Failure::new(format!(
                    "cannot read the secret file {}: {error}",
                    path.display()
                ))
            })?;
            let mut text = Zeroizing::new(text);
            // A file written by `echo` or an editor ends with one newline: not the secret's.
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            return Ok(Some(RawSecret {
                text,
                source: format!("the secret file {}", path.display()),
            }));
        }
        Ok(std::env::var(SECRET_VAR).ok().map(|text| RawSecret {
            text: Zeroizing::new(text),
            source: SECRET_VAR.to_owned(),
        }))
    }

    /// The checked secret.
    ///
    /// # Errors
    /// When none is set, or it is refused as by [`AppSecret::new`].
    pub(crate) fn secret(&self) -> Result<AppSecret, Failure> {
        let raw = self.raw()?.ok_or_else(missing)?;
        AppSecret::new(raw.text.as_str()).map_err(|error| {
            Failure::new(format!(
                "the app secret in {}: {}; fix it there (`xorpay doctor` checks it)",
                raw.source,
                error.reason()
            ))
        })
    }
}

/// The failure when no secret is set anywhere.
pub(crate) fn missing() -> Failure {
    Failure::new(format!(
        "no app secret: set {SECRET_VAR} or pass --secret-file FILE (never the secret itself: \
         arguments show in ps and shell history)"
    ))
}
