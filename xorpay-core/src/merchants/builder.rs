//! Configuring a [`Merchants`] registry: the table and the notify base URL are given to
//! `Merchants::builder`; everything else has a default.

use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::refresh;
use super::registry::{Configure, Inner, Merchants, Table};
use crate::config::ConfigError;
use crate::service::{PaymentsBuilder, ServiceOrder, Set};

/// Builds a [`Merchants`] registry (from [`Merchants::builder`]).
#[must_use = "call .build().await to read the table and serve its merchants"]
pub struct MerchantsBuilder<O> {
    table: Arc<dyn Table>,
    notify_base: String,
    configure: Configure<O>,
    refresh_every: Option<Duration>,
}

impl<O> std::fmt::Debug for MerchantsBuilder<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantsBuilder")
            .field("notify_base", &self.notify_base)
            .field("refresh_every", &self.refresh_every)
            .finish_non_exhaustive()
    }
}

impl<O: ServiceOrder> MerchantsBuilder<O> {
    pub(super) fn new(table: Arc<dyn Table>, notify_base: String) -> MerchantsBuilder<O> {
        MerchantsBuilder {
            table,
            notify_base,
            configure: Arc::new(|builder| builder),
            refresh_every: Some(Duration::from_secs(30)),
        }
    }

    /// Settings for every merchant's service, given its builder with the aid, the secrets,
    /// the notify URL and the store already set from the table: the fulfilment hook, XorPay's
    /// base URL, timeouts, `.no_background()`, … Applied each time a merchant's service is
    /// built (when it is added, and when its row changes).
    pub fn each_merchant(
        mut self,
        configure: impl Fn(
            PaymentsBuilder<O, Set, Set, Set, Set>,
        ) -> PaymentsBuilder<O, Set, Set, Set, Set>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.configure = Arc::new(configure);
        self
    }

    /// How often the table is read in the background. Default: 30 seconds.
    pub fn refresh_every(mut self, every: Duration) -> Self {
        self.refresh_every = Some(every);
        self
    }

    /// No background refresh: the table is read on [`Merchants::refresh`] and on a checkout
    /// for a name not served only.
    pub fn no_background_refresh(mut self) -> Self {
        self.refresh_every = None;
        self
    }

    /// Reads the table and builds every merchant's service; with a background refresh,
    /// starts it on the current tokio runtime.
    ///
    /// # Errors
    /// A [`ConfigError`] for a notify base URL that is not an absolute http(s) URL, a table
    /// that cannot be read, or a merchant whose service cannot be built (its settings name
    /// it).
    pub async fn build(self) -> Result<Merchants<O>, ConfigError> {
        let notify_base = self.notify_base.trim_end_matches('/').to_owned();
        let notify_prefix = crate::client::web_url(&notify_base)
            .filter(|url| url.query().is_none())
            .map(|url| url.path().trim_end_matches('/').to_owned())
            .ok_or_else(|| {
                ConfigError::new(
                    "notify base URL",
                    "it must be an absolute http(s) URL without query, fragment or user",
                )
            })?;
        let merchants = Merchants {
            inner: Arc::new(Inner {
                table: self.table,
                notify_base,
                notify_prefix,
                configure: self.configure,
                served: RwLock::new(HashMap::new()),
                refreshing: tokio::sync::Mutex::new(()),
            }),
        };
        refresh::refresh(&merchants.inner)
            .await
            .map_err(|error| ConfigError::new("merchant table", error))?;
        if let Some(every) = self.refresh_every {
            refresh::start_background(&merchants.inner, every);
        }
        Ok(merchants)
    }
}
