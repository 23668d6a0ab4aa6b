//! Merchants from a table: one process serving several merchants whose aids and secrets a
//! platform keeps in its database (feature `client`).
//!
//! [`Merchants`] reads the [merchant table](crate::store::merchant_table) and keeps one
//! [`Payments`] per merchant, built from its row: its notify URL is the platform's notify
//! base URL with the merchant's name as the last segment
//! (`https://platform.example/xorpay/notify/tea-house`), because XorPay's notification does
//! not say which `aid` it is for. A merchant is added, rotated or disabled by changing its
//! row, without a restart:
//!
//! - **Added**: served from the next refresh; a checkout for a name not served yet reads the
//!   table once before it is refused.
//! - **Rotated** (a new secret; the table keeps the one it replaces and when): notifications
//!   signed with either are accepted for XorPay's retry span after the rotation, as
//!   `Payments::builder().previous_secret` does.
//! - **Disabled**: it takes no new checkouts ([`CheckoutError::NotTakingOrders`]), while the
//!   orders it already took are notified, reconciled and refunded as before, verified with
//!   its last secrets. Delete its row only once none of its orders is open.
//! - **Unknown** (no row): its notifications are refused with 404 and logged; nothing is
//!   written.
//!
//! **Refreshing.** The table is read when the service is built, every `refresh_every`
//! (default 30 s) in the background, on [`Merchants::refresh`], and once on a checkout for a
//! name not served. A notification never reads it: the hot path looks the merchant up in
//! memory. A row that cannot be used (a bad secret written by hand) fails the read; the
//! merchants read before keep being served, and the error is logged at ERROR.

mod builder;
mod refresh;
mod registry;

use std::sync::{Arc, PoisonError};

pub use builder::MerchantsBuilder;
pub use registry::Merchants;

use crate::service::{Checkout, CheckoutError, NotifyAnswer, Payments, ServiceOrder};
use crate::store::StoreError;

impl<O: ServiceOrder> Merchants<O> {
    /// Configures a registry reading `table`, whose merchants' notify URLs are
    /// `notify_base`, `/`, and their name. See [`MerchantsBuilder`].
    pub fn builder(
        table: impl crate::store::MerchantTable,
        notify_base: impl Into<String>,
    ) -> MerchantsBuilder<O> {
        MerchantsBuilder::new(Arc::new(table), notify_base.into())
    }

    /// Merchant `name`'s service, enabled or disabled (refunds, orders, settling), or `None`
    /// when the table had no such merchant at the last refresh. Never reads the table.
    pub fn get(&self, name: &str) -> Option<Payments<O>> {
        self.inner
            .served
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .map(|served| served.payments.clone())
    }

    /// The names of the merchants served, enabled or not, in order.
    pub fn names(&self) -> Vec<String> {
        let served = self
            .inner
            .served
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> = served.keys().cloned().collect();
        names.sort_unstable();
        names
    }

    /// Checks an order out at merchant `name`, as [`Payments::checkout`] does. A name not
    /// served yet reads the table once first (a merchant just added).
    ///
    /// # Errors
    /// [`CheckoutError::UnknownMerchant`] for a name the table does not have,
    /// [`CheckoutError::NotTakingOrders`] for a disabled merchant (nothing stored or sent),
    /// and every error of [`Payments::checkout`].
    pub async fn checkout(&self, name: &str, order: O) -> Result<Checkout<O>, CheckoutError> {
        let payments = match self.get(name) {
            Some(payments) => payments,
            None => {
                if let Err(error) = self.refresh().await {
                    tracing::error!(%error, "the merchant table could not be read");
                }
                self.get(name)
                    .ok_or_else(|| CheckoutError::UnknownMerchant(name.to_owned()))?
            }
        };
        payments.checkout(order).await
    }

    /// Verifies and records a notification posted to merchant `name`'s notify URL, as
    /// [`Payments::answer`] does; 404 for a merchant the table does not have (logged at WARN,
    /// nothing written). Never reads the table.
    pub async fn answer(&self, name: &str, body: &[u8]) -> NotifyAnswer {
        match self.get(name) {
            Some(payments) => payments.answer(body).await,
            None => {
                tracing::warn!(
                    merchant = name,
                    "xorpay notification for a merchant not in the merchant table: refused, \
                     nothing written"
                );
                crate::metrics::notified(crate::metrics::Notified::UnknownMerchant);
                NotifyAnswer::unknown_merchant()
            }
        }
    }

    /// Reads the table now and serves what it says: new merchants added, changed ones rebuilt
    /// (a rotated secret, another aid), disabled ones closed to checkouts, removed ones
    /// dropped.
    ///
    /// # Errors
    /// [`StoreError`] when the table cannot be read or holds a row that cannot be used; the
    /// merchants read before are kept.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        refresh::refresh(&self.inner).await
    }

    /// The path the notify routes are served under: `{prefix}/{merchant}`.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn notify_prefix(&self) -> &str {
        &self.inner.notify_prefix
    }
}
