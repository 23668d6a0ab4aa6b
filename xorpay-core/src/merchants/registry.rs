//! The registry's state: the [`Merchants`] handle, what its clones share, the table it reads
//! (through `dyn`) and the platform's settings for every merchant's service. The code that
//! reads and serves it is above: `refresh`, `builder` and the module's root.

use core::future::Future;
use core::pin::Pin;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use crate::service::{Payments, PaymentsBuilder, Set};
use crate::store::{AnyStore, MerchantRecord, MerchantTable, StoreError};

/// Several merchants from a [`MerchantTable`](crate::store::MerchantTable), each served by
/// its own [`Payments`]. Clones share one registry; its background refresh ends when the last
/// clone is dropped.
///
/// ```no_run
/// # use xorpay::prelude::*;
/// # #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
/// # #[xorpay(kind = native, notify_url = from_client)]
/// # struct Coffee { #[xorpay(order_id)] id: String, #[xorpay(name)] name: String, #[xorpay(price)] price: Price }
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use xorpay::merchants::Merchants;
/// use xorpay::store::MerchantRecord;
///
/// let store = SqliteStore::open("platform.sqlite")?;
/// // An operator adds a merchant (or writes the row with SQL of their own).
/// let secret = AppSecret::new(std::env::var("TEA_HOUSE_SECRET")?)?;
/// store.save_merchant(&MerchantRecord::new("tea-house", "1000", secret)?).await?;
///
/// let merchants = Merchants::<Coffee>::builder(store, "https://platform.example/xorpay/notify")
///     .build()
///     .await?;
/// let order = Coffee { id: "c-1".into(), name: "拿铁".into(), price: "18.00".parse()? };
/// let _shown_to_the_payer = merchants.checkout("tea-house", order).await?;
/// // One route for every merchant: POST /xorpay/notify/{merchant}.
/// let _app: axum::Router = merchants.router();
/// # Ok(()) }
/// ```
pub struct Merchants<O> {
    pub(super) inner: Arc<Inner<O>>,
}

impl<O> Clone for Merchants<O> {
    fn clone(&self) -> Self {
        Merchants {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<O> std::fmt::Debug for Merchants<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let served = self
            .inner
            .served
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&String> = served.keys().collect();
        names.sort_unstable();
        f.debug_struct("Merchants")
            .field("notify_base", &self.inner.notify_base)
            .field("merchants", &names)
            .finish_non_exhaustive()
    }
}

/// What a registry holds; its clones share it.
pub(super) struct Inner<O> {
    pub(super) table: Arc<dyn Table>,
    /// The notify URL of merchant `name` is this, `/`, and `name`.
    pub(super) notify_base: String,
    /// The path of `notify_base`: the router serves `{notify_prefix}/{name}`.
    pub(super) notify_prefix: String,
    /// Applied to every merchant's builder: the platform's settings for every service.
    pub(super) configure: Configure<O>,
    /// The merchants served, by name: read on every call, replaced by a refresh.
    pub(super) served: RwLock<HashMap<String, Served<O>>>,
    /// One refresh at a time.
    pub(super) refreshing: tokio::sync::Mutex<()>,
}

/// One merchant's service and the row it was built from.
pub(super) struct Served<O> {
    pub(super) payments: Payments<O>,
    pub(super) record: MerchantRecord,
}

/// The platform's settings for every merchant's service.
pub(super) type Configure<O> = Arc<
    dyn Fn(PaymentsBuilder<O, Set, Set, Set, Set>) -> PaymentsBuilder<O, Set, Set, Set, Set>
        + Send
        + Sync,
>;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// [`MerchantTable`] callable through `dyn`.
pub(super) trait Table: Send + Sync + 'static {
    fn merchants(&self) -> Boxed<'_, Vec<MerchantRecord>>;
    fn orders_of(&self, name: &str) -> AnyStore;
}

impl<T: MerchantTable> Table for T {
    fn merchants(&self) -> Boxed<'_, Vec<MerchantRecord>> {
        Box::pin(MerchantTable::merchants(self))
    }
    fn orders_of(&self, name: &str) -> AnyStore {
        MerchantTable::orders_of(self, name)
    }
}
