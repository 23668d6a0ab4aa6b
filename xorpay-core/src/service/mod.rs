//! The lifecycle service: one per merchant, configured once, owning every step that moves
//! money (feature `client`).
//!
//! A merchant's code is: derive the order struct, build [`Payments`], call it.
//!
//! - [`Payments::checkout`] stores the order, sends it to XorPay and records it pending. An
//!   answer that is lost leaves the order *in doubt*, settled by asking XorPay and sending
//!   the identical request again: never two live orders for one order number.
//! - [`Payments::confirm`] (or the axum route [`Payments::notify_route`], feature `axum`)
//!   applies XorPay's notification in one conditional write, reads the order back when the
//!   write did not apply, and only then hands out the acknowledgement XorPay waits for.
//! - [`Payments::refund`] records the refund in doubt before sending it, under a key the
//!   merchant chooses, so that a repeated request gets the first one's outcome.
//! - [`Payments::reconcile`] asks XorPay about every order whose fate the store cannot know.
//! - [`Payments::fulfil_paid`] hands every paid order to the merchant's idempotent
//!   [`Fulfil`] hook, at least once, and records it fulfilled once;
//!   [`Payments::run_in_background`] does this and reconciliation on a timer.
//!
//! Every operation has its own error type, which says whether trying again is safe and what
//! the merchant should do. The typestate ([`crate::order`]) and the client
//! ([`crate::client`]) stay public for custom flows; the service is built on them.

use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use typed_builder::TypedBuilder;

use crate::client::{Client, ClientError, RetryPolicy, XORPAY_BASE_URL};
use crate::credentials::{Aid, AppSecret};
use crate::order::StoredOrder;
use crate::request::XorPayOrder;
use crate::store::{OrderStore, Record, StoreError};

mod checkout;
mod clock;
mod confirm;
mod fulfil;
mod reconcile;
mod record;
mod refund;

pub use checkout::{Checkout, CheckoutError};
pub use clock::Clock;
pub use confirm::{Acknowledgement, Confirmed, NotifyError};
pub use fulfil::{Fulfil, FulfilError, Fulfilled, InBackground};
pub use reconcile::{NOTIFY_RETRY_SPAN, ReconcilePolicy, Reconciled};
pub use refund::{RecordAoidError, RefundError, RefundOutcome, ResolveError};

/// The orders a service takes: the merchant's struct, signed by the derive, stored as JSON.
pub trait ServiceOrder: XorPayOrder + Serialize + DeserializeOwned + Send + Sync + 'static {}

impl<O: XorPayOrder + Serialize + DeserializeOwned + Send + Sync + 'static> ServiceOrder for O {}

/// The lifecycle service for one merchant: orders of type `O` in the store `S`.
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
/// let payments: Payments<Coffee, SqliteStore> = Payments::builder()
///     .aid(Aid::new("1000")?)
///     .secret(AppSecret::new(std::env::var("XORPAY_APP_SECRET")?)?)
///     .notify_url("https://shop.example.com/xorpay/notify")
///     .store(SqliteStore::open("shop.sqlite")?)
///     .build()?;
/// let checkout = payments
///     .checkout(Coffee { id: "c-1".into(), name: "拿铁".into(), price: "18.00".parse()? })
///     .await?;
/// # let _ = checkout;
/// # Ok(()) }
/// ```
pub struct Payments<O, S> {
    inner: Arc<Inner<S>>,
    orders: PhantomData<fn() -> O>,
}

impl<O, S> Clone for Payments<O, S> {
    fn clone(&self) -> Self {
        Payments {
            inner: Arc::clone(&self.inner),
            orders: PhantomData,
        }
    }
}

impl<O, S> fmt::Debug for Payments<O, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Payments")
            .field("client", &self.inner.client)
            .field("rotating_secret", &self.inner.retired.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner<S> {
    client: Client,
    store: S,
    /// The secret in use before the current one, and until when notifications signed with it
    /// are still accepted.
    retired: Option<(AppSecret, OffsetDateTime)>,
    clock: Clock,
    reconcile: ReconcilePolicy,
    lease: Duration,
    /// How long after it was asked a refund in doubt may be resolved by hand.
    resolve_after: Duration,
    /// Woken when a payment is recorded, so a background fulfiller runs at once.
    paid: tokio::sync::Notify,
}

/// A secret XorPay no longer signs with: notifications it signed before the rotation keep
/// arriving for XorPay's retry span ([`NOTIFY_RETRY_SPAN`]) after `retired_at`, and are
/// accepted that long.
pub struct RetiredSecret {
    secret: AppSecret,
    retired_at: OffsetDateTime,
}

impl RetiredSecret {
    /// The previous secret, replaced at `retired_at`.
    pub fn new(secret: AppSecret, retired_at: OffsetDateTime) -> RetiredSecret {
        RetiredSecret { secret, retired_at }
    }
}

impl fmt::Debug for RetiredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetiredSecret")
            .field("secret", &self.secret)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// What [`Payments::builder`] collects. Its `build()` checks the URLs, sets up the client and
/// gives the service.
#[derive(TypedBuilder)]
#[builder(
    builder_method(vis = "pub(crate)"),
    build_method(into = Result<Payments<O, S>, ConfigError>)
)]
pub struct PaymentsConfig<O, S> {
    /// The merchant's app id.
    aid: Aid,
    /// The merchant's app secret: requests are signed and notifications verified with it.
    secret: AppSecret,
    /// The previous secret, during a rotation (see [`RetiredSecret`]).
    #[builder(default, setter(strip_option))]
    previous_secret: Option<RetiredSecret>,
    /// Where XorPay posts notifications: the URL of [`Payments::notify_route`]. Orders
    /// declared `notify_url = from_client` are signed with it.
    #[builder(setter(into))]
    notify_url: String,
    /// Where orders live.
    store: S,
    /// XorPay's base URL, or a sandbox's. Default: [`XORPAY_BASE_URL`].
    #[builder(default = XORPAY_BASE_URL.to_owned(), setter(into))]
    base_url: String,
    /// The clock. Default: the system's.
    #[builder(default)]
    clock: Clock,
    /// The whole time one request to XorPay may take. Default: 15 s.
    #[builder(default = Duration::from_secs(15))]
    timeout: Duration,
    /// How queries are retried. Default: [`RetryPolicy::default`].
    #[builder(default)]
    query_retry: RetryPolicy,
    /// Which orders reconciliation asks about. Default: [`ReconcilePolicy::default`]. Its
    /// `stale_after` is raised to `timeout` plus 2 seconds when shorter: an order whose
    /// request may still be under way is never taken for a lost one.
    #[builder(default)]
    reconcile: ReconcilePolicy,
    /// How long after a refund was asked, its answer lost, it may be resolved by hand
    /// ([`Payments::resolve_refund`]): XorPay may still be making it until then, so its
    /// dashboard showing no refund proves nothing yet. Raised to `timeout` plus 2 seconds
    /// when shorter. Default: 5 minutes.
    #[builder(default = Duration::from_secs(300))]
    refund_resolve_after: Duration,
    /// How long a fulfilment claim is exclusive: longer than the fulfilment hook ever takes.
    /// Default: 5 minutes.
    #[builder(default = Duration::from_secs(300))]
    fulfil_lease: Duration,
    #[builder(default, setter(skip))]
    orders: PhantomData<fn() -> O>,
}

/// Beyond the client's timeout, how long a request's answer may take to be recorded.
const IN_FLIGHT_MARGIN: Duration = Duration::from_secs(2);

/// Why a service could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A URL or the HTTP stack: see the message.
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl<O, S> Payments<O, S> {
    /// Configures the service: `aid`, `secret`, `notify_url` and `store` are required (a
    /// missing one is a compile error naming it), every other setting has a default.
    /// `build()` gives the service.
    ///
    /// # Errors
    /// `build()` fails with [`ConfigError`] for a `base_url` or `notify_url` that is not an
    /// absolute http(s) URL (plain http to XorPay only on loopback, for a sandbox).
    pub fn builder() -> PaymentsConfigBuilder<O, S> {
        PaymentsConfig::builder()
    }
}

impl<O, S> From<PaymentsConfig<O, S>> for Result<Payments<O, S>, ConfigError> {
    fn from(config: PaymentsConfig<O, S>) -> Result<Payments<O, S>, ConfigError> {
        let client = Client::builder()
            .aid(config.aid)
            .secret(config.secret)
            .notify_url(config.notify_url)
            .base_url(config.base_url)
            .timeout(config.timeout)
            .query_retry(config.query_retry)
            .build()?;
        let retired = config.previous_secret.map(|previous| {
            let until = previous.retired_at
                + time::Duration::try_from(NOTIFY_RETRY_SPAN).unwrap_or(time::Duration::ZERO);
            (previous.secret, until)
        });
        // Longer than any request to XorPay takes, with the time to record its answer.
        let in_flight = config.timeout + IN_FLIGHT_MARGIN;
        let mut reconcile = config.reconcile;
        reconcile.stale_after = reconcile.stale_after.max(in_flight);
        Ok(Payments {
            inner: Arc::new(Inner {
                client,
                store: config.store,
                retired,
                clock: config.clock,
                reconcile,
                lease: config.fulfil_lease,
                resolve_after: config.refund_resolve_after.max(in_flight),
                paid: tokio::sync::Notify::new(),
            }),
            orders: PhantomData,
        })
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

impl<O: ServiceOrder, S: OrderStore> Payments<O, S> {
    /// The client, for custom flows (the low-level door: everything it does outside the
    /// service is the caller's to store).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// The order with this number, in whatever state it is.
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
