//! The merchant table: a platform's merchants, their credentials and whether they take new
//! orders, read at run time by `xorpay::merchants::Merchants` (feature `client`).
//!
//! **Where it lives.** `SqliteStore`, `PgStore` and `MySqlStore` keep it as
//! `xorpay_merchants`, in the same database as the orders, created with the rest of their
//! schema: xorpay owns its schema as it owns `xorpay_orders`. Write rows with the store's
//! `save_merchant` (which keeps the previous secret on a rotation), or with SQL of your own
//! into these columns:
//!
//! | column | meaning |
//! |---|---|
//! | `name` | the merchant's name: the last segment of its notify URL and its orders' scope (1–64 ASCII letters, digits, `-`, `_`) |
//! | `aid`, `secret` | the merchant's XorPay credentials, the secret **in plain text** (see `SECURITY.md`) |
//! | `previous_secret`, `retired_unix` | the secret before the last rotation and when it was replaced (Unix seconds); notifications signed with it are accepted for XorPay's retry span after that |
//! | `enabled` | whether it takes new orders; a disabled merchant's notifications and reconciliation go on |
//! | `updated_unix` | when the row last changed |
//!
//! A platform whose merchants live elsewhere (its own `shops` table, a secrets manager)
//! implements [`MerchantTable`] over it instead.

use core::future::Future;

use time::OffsetDateTime;

use super::{AnyStore, StoreError};
use crate::credentials::{AppSecret, is_path_safe};

/// One merchant as the table holds it. Its `Debug` never shows a secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MerchantRecord {
    /// The merchant's name: the last segment of its notify URL, and the scope its orders
    /// are kept under.
    pub name: String,
    /// Its XorPay app id.
    pub aid: String,
    /// Its app secret.
    pub secret: AppSecret,
    /// The secret before the last rotation, and when it was replaced.
    pub previous_secret: Option<(AppSecret, OffsetDateTime)>,
    /// Whether it takes new orders.
    pub enabled: bool,
}

impl MerchantRecord {
    /// A merchant that takes orders, with no previous secret.
    ///
    /// # Errors
    /// [`StoreError::Database`] for a name that is empty, longer than 64 characters or holds a
    /// character other than ASCII letters, digits, `-` and `_`.
    pub fn new(
        name: impl Into<String>,
        aid: impl Into<String>,
        secret: AppSecret,
    ) -> Result<MerchantRecord, StoreError> {
        let name = name.into();
        check_name(&name)?;
        Ok(MerchantRecord {
            name,
            aid: aid.into(),
            secret,
            previous_secret: None,
            enabled: true,
        })
    }

    /// The same merchant, taking new orders or not.
    pub fn enabled(mut self, enabled: bool) -> MerchantRecord {
        self.enabled = enabled;
        self
    }

    /// A row as a store read it: every value checked, so that a row written by hand with a
    /// bad secret or name is reported, not used.
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn from_row(
        name: String,
        aid: String,
        secret: String,
        previous: Option<(String, i64)>,
        enabled: bool,
    ) -> Result<MerchantRecord, StoreError> {
        check_name(&name)?;
        let bad = |what: &str, error: crate::ConfigError| {
            StoreError::Database(format!(
                "merchant {name:?} in the merchant table: {what}: {error}"
            ))
        };
        let secret = AppSecret::new(secret).map_err(|error| bad("secret", error))?;
        let previous_secret = match previous {
            Some((text, retired_unix)) => {
                let retired = OffsetDateTime::from_unix_timestamp(retired_unix).map_err(|_| {
                    StoreError::Database(format!(
                        "merchant {name:?} in the merchant table: retired_unix {retired_unix} \
                         is out of range"
                    ))
                })?;
                Some((
                    AppSecret::new(text).map_err(|error| bad("previous_secret", error))?,
                    retired,
                ))
            }
            None => None,
        };
        Ok(MerchantRecord {
            name,
            aid,
            secret,
            previous_secret,
            enabled,
        })
    }
}

/// A merchant's name as the table and the notify URLs use it.
pub(crate) fn check_name(name: &str) -> Result<(), StoreError> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(is_path_safe) {
        return Err(StoreError::Database(format!(
            "merchant name {name:?}: use 1 to 64 ASCII letters, digits, `-` and `_` (it is a \
             segment of the merchant's notify URL)"
        )));
    }
    Ok(())
}

/// Where a platform's merchants are listed, and where each one's orders are kept: what
/// `xorpay::merchants::Merchants` (feature `client`) reads. `SqliteStore`, `PgStore` and
/// `MySqlStore` implement it over their `xorpay_merchants` table (see the
/// [module docs](self)).
pub trait MerchantTable: Send + Sync + 'static {
    /// Every merchant in the table, enabled or not. One bad row fails the whole read (the
    /// service keeps serving what it read last, and logs the error).
    fn merchants(&self) -> impl Future<Output = Result<Vec<MerchantRecord>, StoreError>> + Send;

    /// The store of merchant `name`'s orders.
    fn orders_of(&self, name: &str) -> AnyStore;
}
