//! The lifecycle service: one per merchant, configured once, the one door through which
//! money moves (feature `client`).
//!
//! A merchant's code is: derive the order struct, build [`Payments`], call it. The typed
//! orders of [`crate::order`] are its vocabulary: it hands them out and takes each back in
//! the state a step needs.
//!
//! - [`Payments::checkout`] stores the order, sends it to XorPay and records it pending; an
//!   answer that is lost is settled so that there is [one live order per number].
//! - [`Payments::confirm`] (or the axum router `Payments::router`, feature `axum`) applies
//!   XorPay's notification and [acknowledges it only after the durable write];
//!   [`Payments::settle`] asks XorPay about a pending order at once (the payer is back on the
//!   return page).
//! - [`Payments::refund`] takes an `&Order<O, Paid>` and a key; [the refund is recorded in
//!   doubt before it is sent]. [`Payments::resolve_refund`] and [`Payments::record_aoid`]
//!   settle by hand what only XorPay's dashboard can tell.
//! - Background work, started by `build()`: reconciliation ([`Payments::reconcile`]) asks
//!   XorPay about every order whose fate the store cannot know, and the hook sweep
//!   ([`Payments::run_hooks`]) tells the merchant's [`Hook`] of every [`Event`]: an order
//!   paid, expired for good, a refund made or not made, an order needing a person ([at least
//!   once, recorded once]).
//!
//! [one live order per number]: guarantees::one_live_order
//! [acknowledges it only after the durable write]: guarantees::acknowledgement
//! [the refund is recorded in doubt before it is sent]: guarantees::refund_in_doubt
//! [at least once, recorded once]: guarantees::fulfilment
//!
//! The service reads only the order number from a typed copy it is given: it reloads the row
//! and decides on it under a compare-and-set, so a stale copy cannot refund more than is
//! left. Each operation has its own error type, and each says whether trying again is safe
//! (`is_safe_to_retry`).

use core::fmt;
use core::time::Duration;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::client::Client;
use crate::credentials::AppSecret;
use crate::order::StoredOrder;
use crate::request::XorPayOrder;
use crate::store::{AnyStore, Record, StoreError};

mod account;
mod answer;
mod background;
mod builder;
mod checkout;
mod clock;
mod confirm;
mod fulfil;
mod gauges;
pub mod guarantees;
mod hook;
mod lease;
mod load;
mod notices;
mod reconcile;
mod reconcile_policy;
mod record;
mod refund;
mod retention;
mod signals;
mod tell;
mod throttle;

pub use answer::NotifyAnswer;
pub use builder::{AidIsSet, NotifyUrlIsSet, PaymentsBuilder, SecretIsSet, Set, StoreIsSet, Unset};
pub use checkout::{Checkout, CheckoutError};
pub use clock::Clock;
pub use confirm::{Confirmed, NotifyError};
pub use hook::{Attention, Event, Hook, HookError, HookRuns};
pub use load::OrderError;
pub use reconcile::Reconciled;
pub use reconcile_policy::{NOTIFY_RETRY_SPAN, ReconcilePolicy};
pub use refund::{IsPaid, RefundError};
pub use retention::Pruned;

/// The orders a service takes: the merchant's struct, signed by the derive and kept in the
/// store as JSON (so it derives serde's `Serialize` and `Deserialize`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be kept in the service's store: derive serde's `Serialize` and `Deserialize` on it",
    label = "the service stores each order as JSON before sending it",
    note = "add `serde::Serialize, serde::Deserialize` beside `XorPayOrder` in `#[derive(…)]` on `{Self}` (and `cargo add serde --features derive`)"
)]
pub trait ServiceOrder: XorPayOrder + Serialize + DeserializeOwned + Send + Sync + 'static {}

// Not recommended: a missing derive is reported as this trait's message, not as serde's.
#[diagnostic::do_not_recommend]
impl<O: XorPayOrder + Serialize + DeserializeOwned + Send + Sync + 'static> ServiceOrder for O {}

/// The lifecycle service for one merchant, for orders of type `O`.
///
/// ```no_run
/// use xorpay::prelude::*;
///
/// #[derive(XorPayOrder, serde::Serialize, serde::Deserialize)]
/// #[xorpay(kind = native, notify_url = from_client)]
/// struct Coffee {
///     #[xorpay(order_id)]
///     id: String,
///     #[xorpay(name)]
///     name: String,
///     #[xorpay(price)]
///     price: Price,
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let payments = Payments::builder()
///     .aid("1000")
///     .secret(std::env::var("XORPAY_APP_SECRET")?)
///     .notify_url("https://shop.example.com/xorpay/notify")
///     .store(SqliteStore::open("shop.sqlite")?)
///     .build()?;
/// let checkout = payments
///     .checkout(Coffee { id: "c-1".into(), name: "拿铁".into(), price: "18.00".parse()? })
///     .await?;
/// # let _ = checkout;
/// # Ok(()) }
/// ```
///
/// Clones share one service. Its background work ends when the last clone is dropped, or
/// with [`Payments::shutdown`].
pub struct Payments<O> {
    inner: Arc<Inner<O>>,
}

impl<O> Clone for Payments<O> {
    fn clone(&self) -> Self {
        Payments {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<O> fmt::Debug for Payments<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payments")
            .field("client", &self.inner.client)
            .field("notify_path", &self.inner.notify_path)
            .field("rotating_secret", &self.inner.retired.is_some())
            .finish_non_exhaustive()
    }
}

/// What a service holds; its clones share it.
struct Inner<O> {
    client: Client,
    store: AnyStore,
    /// The secret in use before the current one, and until when notifications signed with it
    /// are still accepted.
    retired: Option<(AppSecret, OffsetDateTime)>,
    clock: Clock,
    reconcile: ReconcilePolicy,
    lease: Duration,
    /// How long after it was asked a refund in doubt may be resolved by hand.
    resolve_after: Duration,
    /// How long closed orders are kept before the background work prunes them, if it does,
    /// and how often at most it tries.
    prune: Option<(Duration, throttle::Throttle)>,
    /// Whether the merchant declared a personal account (per-payment limits apply).
    personal: bool,
    /// Whether checkouts are taken: false for a merchant disabled in the merchant table
    /// ([`crate::merchants`]), whose open orders are still notified and reconciled.
    taking_orders: AtomicBool,
    /// The notify URL orders are signed with, and the path the router serves.
    notify_url: String,
    notify_path: String,
    /// The merchant's hook, if one was given.
    hook: Option<Arc<dyn hook::Erased<O>>>,
    /// How often at most the gauges are read (feature `metrics`).
    gauges: throttle::Throttle,
    /// Wakes the background work (a payment was recorded) and stops it.
    signals: Arc<signals::Signals>,
    /// The background task, until [`Payments::shutdown`] takes it.
    background: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl<O> Drop for Inner<O> {
    fn drop(&mut self) {
        // The last handle is gone: the background work ends after its current step.
        self.signals.stop();
    }
}

/// An order as listed by the service: the typed order and what the store records beside it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Listed<O> {
    /// The order.
    pub order: StoredOrder<O>,
    /// When it was stored.
    pub created_at: OffsetDateTime,
    /// When its fulfilment was recorded.
    pub fulfilled_at: Option<OffsetDateTime>,
}

impl<O: ServiceOrder> Payments<O> {
    /// The client, for the calls that move no money: queries, the openid redirect, QR images.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The clock the service reads the time from.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The order with this number, in whatever state it is stored: match the
    /// [`StoredOrder`] to get the typed order a step needs.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn order(&self, order_id: &str) -> Result<Option<StoredOrder<O>>, StoreError> {
        match self.inner.store.load(order_id).await? {
            Some(record) => Ok(Some(record::typed(&record)?)),
            None => Ok(None),
        }
    }

    /// The most recently stored orders, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn recent(&self, limit: usize) -> Result<Vec<Listed<O>>, StoreError> {
        listed(self.inner.store.recent(limit).await?)
    }

    /// The orders a person must act on, however old: paid orders with a refund in doubt, or
    /// whose `aoid` only XorPay's dashboard can tell, and orders XorPay holds as `fee_error`
    /// (the payer paid; top up the prepaid balance). At most `limit`.
    ///
    /// # Errors
    /// [`StoreError`].
    pub async fn needing_attention(&self, limit: usize) -> Result<Vec<Listed<O>>, StoreError> {
        listed(self.inner.store.needing_attention(limit).await?)
    }

    fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// The store as the service writes to it, with the events for the hook. Recorded by
    /// every instance, with a hook or not: the operator's command resolving a refund by hand
    /// has none, and the shop's server must still be told.
    fn ledger(&self) -> record::Ledger<'_> {
        record::Ledger {
            store: &self.inner.store,
            tell: notices::Tell {
                expired_grace: self.inner.reconcile.expired_grace.max(NOTIFY_RETRY_SPAN),
                resolve_after: self.inner.resolve_after,
            },
        }
    }

    /// Whether checkouts are taken (see [`CheckoutError::NotTakingOrders`]).
    pub(crate) fn taking_orders(&self) -> bool {
        self.inner.taking_orders.load(Ordering::Acquire)
    }

    /// Takes checkouts again, or stops taking them.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn take_orders(&self, taking: bool) {
        self.inner.taking_orders.store(taking, Ordering::Release);
    }

    /// The path the notify route is served at.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))]
    pub(crate) fn notify_path(&self) -> &str {
        &self.inner.notify_path
    }
}

fn listed<O: ServiceOrder>(records: Vec<Record>) -> Result<Vec<Listed<O>>, StoreError> {
    records
        .iter()
        .map(|record| {
            Ok(Listed {
                order: record::typed(record)?,
                created_at: record.created_at,
                fulfilled_at: record.fulfilled_at,
            })
        })
        .collect()
}
