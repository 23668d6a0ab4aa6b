//! [`PaymentsBuilder`]: the service's settings, four of them required.
//!
//! The builder's type records which of `aid`, `secret`, `notify_url` and `store` are set
//! ([`Set`] or [`Unset`]), so `build()` exists only once all four are; a missing one is a
//! compile error whose first line names it and how to set it (one `#[diagnostic]` trait per
//! setting, as bon does). A generic builder derive prints its internal tuple types instead,
//! which is why this one is written by hand.
//!
//! `build()` checks the values (a [`ConfigError`] names the setting), warns once about an aid
//! or a secret of an unusual shape, and starts the background work.

use core::marker::PhantomData;
use core::time::Duration;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

use super::hook::{Erased, Hook};
use super::reconcile_policy::{NOTIFY_RETRY_SPAN, ReconcilePolicy};
use super::retention::PRUNE_EVERY;
use super::signals::Signals;
use super::throttle::Throttle;
use super::{Clock, Inner, Payments, ServiceOrder};
use crate::client::{Client, RetryPolicy, XORPAY_BASE_URL, web_url};
use crate::config::ConfigError;
use crate::credentials::{Aid, AppSecret};
use crate::store::AnyStore;

/// A required setting not given yet (a type parameter of [`PaymentsBuilder`]).
#[derive(Debug)]
pub enum Unset {}

/// A required setting given (a type parameter of [`PaymentsBuilder`]).
#[derive(Debug)]
pub enum Set {}

/// `aid` is set.
#[diagnostic::on_unimplemented(
    message = "the service has no aid: add `.aid(…)` before `.build()`",
    label = "`.aid(…)` is missing",
    note = "the aid is the merchant's app id from XorPay's dashboard, a number: `.aid(\"1000\")`"
)]
pub trait AidIsSet {}
impl AidIsSet for Set {}

/// `secret` is set.
#[diagnostic::on_unimplemented(
    message = "the service has no secret: add `.secret(…)` before `.build()`",
    label = "`.secret(…)` is missing",
    note = "the app secret from XorPay's dashboard signs every request and verifies every notification: `.secret(std::env::var(\"XORPAY_APP_SECRET\")?)`"
)]
pub trait SecretIsSet {}
impl SecretIsSet for Set {}

/// `notify_url` is set.
#[diagnostic::on_unimplemented(
    message = "the service has no notify_url: add `.notify_url(…)` before `.build()`",
    label = "`.notify_url(…)` is missing",
    note = "XorPay posts each payment to this URL, which `payments.router()` serves: `.notify_url(\"https://shop.example.com/xorpay/notify\")`"
)]
pub trait NotifyUrlIsSet {}
impl NotifyUrlIsSet for Set {}

/// `store` is set.
#[diagnostic::on_unimplemented(
    message = "the service has no store: add `.store(…)` before `.build()`",
    label = "`.store(…)` is missing",
    note = "orders are stored before they are sent: `.store(SqliteStore::open(\"orders.sqlite\")?)` (feature `sqlite`)"
)]
pub trait StoreIsSet {}
impl StoreIsSet for Set {}

/// The settings of a [`Payments`] service: [`Payments::builder`] starts one.
///
/// `aid`, `secret`, `notify_url` and `store` are required; every other setting has a
/// default.
#[must_use = "a builder does nothing until `.build()`"]
pub struct PaymentsBuilder<O, A = Unset, K = Unset, U = Unset, S = Unset> {
    settings: Settings<O>,
    set: PhantomData<(A, K, U, S)>,
}

struct Settings<O> {
    aid: Option<String>,
    secret: Option<Result<AppSecret, ConfigError>>,
    notify_url: Option<String>,
    store: Option<AnyStore>,
    hook: Option<Arc<dyn Erased<O>>>,
    previous_secret: Option<(Result<AppSecret, ConfigError>, OffsetDateTime)>,
    base_url: String,
    notify_path: Option<String>,
    clock: Clock,
    timeout: Duration,
    query_retry: RetryPolicy,
    reconcile: ReconcilePolicy,
    refund_resolve_after: Duration,
    hook_lease: Duration,
    sweep_every: Option<Duration>,
    prune_after: Option<Duration>,
    personal: bool,
}

impl<O> Payments<O> {
    /// Configures the service: `aid`, `secret`, `notify_url` and `store` are required (a
    /// missing one is a compile error naming it), every other setting has a default.
    /// `build()` gives the service.
    pub fn builder() -> PaymentsBuilder<O> {
        PaymentsBuilder {
            settings: Settings {
                aid: None,
                secret: None,
                notify_url: None,
                store: None,
                hook: None,
                previous_secret: None,
                base_url: XORPAY_BASE_URL.to_owned(),
                notify_path: None,
                clock: Clock::system(),
                timeout: Duration::from_secs(15),
                query_retry: RetryPolicy::default(),
                reconcile: ReconcilePolicy::default(),
                refund_resolve_after: Duration::from_secs(300),
                hook_lease: Duration::from_secs(300),
                sweep_every: Some(Duration::from_secs(30)),
                prune_after: None,
                personal: false,
            },
            set: PhantomData,
        }
    }
}

/// Beyond the client's timeout, how long a request's answer may take to be recorded.
const IN_FLIGHT_MARGIN: Duration = Duration::from_secs(2);

impl<O, A, K, U, S> PaymentsBuilder<O, A, K, U, S> {
    fn with<A2, K2, U2, S2>(self) -> PaymentsBuilder<O, A2, K2, U2, S2> {
        PaymentsBuilder {
            settings: self.settings,
            set: PhantomData,
        }
    }

    /// The merchant's app id, from XorPay's dashboard (checked as by [`Aid::new`]).
    pub fn aid(mut self, aid: impl Into<String>) -> PaymentsBuilder<O, Set, K, U, S> {
        self.settings.aid = Some(aid.into());
        self.with()
    }

    /// The merchant's app secret, from XorPay's dashboard (checked as by [`AppSecret::new`]):
    /// requests are signed and notifications verified with it. It is never logged or printed.
    pub fn secret(mut self, secret: impl Into<String>) -> PaymentsBuilder<O, A, Set, U, S> {
        self.settings.secret = Some(AppSecret::new(secret));
        self.with()
    }

    /// The secret, and the previous one during a rotation, already checked: for the merchant
    /// table, which holds them as [`AppSecret`]s.
    pub(crate) fn secrets(
        mut self,
        secret: AppSecret,
        previous: Option<(AppSecret, OffsetDateTime)>,
    ) -> PaymentsBuilder<O, A, Set, U, S> {
        self.settings.secret = Some(Ok(secret));
        self.settings.previous_secret = previous.map(|(secret, at)| (Ok(secret), at));
        self.with()
    }

    /// Where XorPay posts notifications: an absolute http(s) URL. Orders declared
    /// `notify_url = from_client` are signed with it, `Payments::router` (feature `axum`)
    /// serves its path, and a checkout refuses an order that carries another one.
    pub fn notify_url(mut self, url: impl Into<String>) -> PaymentsBuilder<O, A, K, Set, S> {
        self.settings.notify_url = Some(url.into());
        self.with()
    }

    /// Where orders live: `SqliteStore` (feature `sqlite`), `PgStore` (feature `postgres`),
    /// `MySqlStore` (feature `mysql`), any [`crate::store::OrderStore`], or an [`AnyStore`]
    /// chosen at run time (`AnyStore::open(url)`).
    pub fn store(mut self, store: impl Into<AnyStore>) -> PaymentsBuilder<O, A, K, U, Set> {
        self.settings.store = Some(store.into());
        self.with()
    }

    /// The merchant's [`Hook`], told of every order paid (to fulfil it), expired for good,
    /// refunded or not, or needing a person (see
    /// [`guarantees::fulfilment`](super::guarantees::fulfilment)). Without one, orders are
    /// recorded and left for the merchant to read (the events are still recorded, for an
    /// instance with a hook to tell).
    pub fn hook(mut self, hook: impl Hook<O>) -> Self
    where
        O: ServiceOrder,
    {
        self.settings.hook = Some(Arc::new(hook));
        self
    }

    /// The previous secret during a rotation, replaced at `retired_at`: notifications XorPay
    /// signed with it before the rotation keep arriving for its retry span
    /// ([`NOTIFY_RETRY_SPAN`]) after `retired_at`, and are accepted that long, each confirmed
    /// with XorPay's own answer to a query (a retired secret may have leaked).
    pub fn previous_secret(
        mut self,
        secret: impl Into<String>,
        retired_at: OffsetDateTime,
    ) -> Self {
        self.settings.previous_secret = Some((AppSecret::new(secret), retired_at));
        self
    }

    /// XorPay's base URL, or a sandbox's. Default: `https://xorpay.com`. Plain `http://` only
    /// on loopback.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.base_url = url.into();
        self
    }

    /// The path `Payments::router` (feature `axum`) serves, when a proxy in front of the
    /// service rewrites paths. Default: the path of `notify_url`. Nothing else needs it: with
    /// it set, make sure the proxy sends `notify_url`'s requests here.
    pub fn notify_path(mut self, path: impl Into<String>) -> Self {
        self.settings.notify_path = Some(path.into());
        self
    }

    /// The clock. Default: the system's.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.settings.clock = clock;
        self
    }

    /// The whole time one request to XorPay may take. Default: 15 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// How queries are retried. Default: [`RetryPolicy::default`].
    pub fn query_retry(mut self, retry: RetryPolicy) -> Self {
        self.settings.query_retry = retry;
        self
    }

    /// Which orders reconciliation asks about. Default: [`ReconcilePolicy::default`]. Its
    /// `stale_after` is raised to `timeout` plus 2 seconds when shorter: an order whose
    /// request may still be under way is never taken for a lost one.
    pub fn reconcile(mut self, policy: ReconcilePolicy) -> Self {
        self.settings.reconcile = policy;
        self
    }

    /// How long after a refund was asked, its answer lost, it may be resolved by hand
    /// ([`Payments::resolve_refund`]): XorPay may still be making it until then, so its
    /// dashboard showing no refund proves nothing yet. Raised to `timeout` plus 2 seconds
    /// when shorter. Default: 5 minutes.
    pub fn refund_resolve_after(mut self, after: Duration) -> Self {
        self.settings.refund_resolve_after = after;
        self
    }

    /// How long a claim on an event (a paid order's fulfilment among them) is exclusive:
    /// longer than the hook ever takes. Default: 5 minutes.
    pub fn hook_lease(mut self, lease: Duration) -> Self {
        self.settings.hook_lease = lease;
        self
    }

    /// The merchant's XorPay account is a personal one: checkout refuses an order above the
    /// per-payment limit XorPay documents for personal merchants (WeChat ¥20,000, Alipay
    /// ¥1,000; [`CheckoutError::OverLimit`](super::CheckoutError::OverLimit)) before storing or
    /// sending it. Off by default: 个体户 and companies have no such limit.
    pub fn personal_account(mut self) -> Self {
        self.settings.personal = true;
        self
    }

    /// How often the background work runs reconciliation and the hooks; it also runs the
    /// hooks at once after each payment. Default: 30 seconds.
    pub fn sweep_every(mut self, every: Duration) -> Self {
        self.settings.sweep_every = Some(every);
        self
    }

    /// Keeps closed orders for `keep_for`, then the background work prunes them and erases
    /// their payer's data, leaving a tombstone that keeps the number taken (see
    /// [`Payments::prune`], which says what is closed and what a tombstone keeps), in
    /// rounds of at most 2,000 orders after reconciliation and the hooks, at most every 10
    /// minutes. Needs the background work and a [`Hook`] (`build()` says so otherwise). Off
    /// by default: every order is kept.
    pub fn prune_closed_after(mut self, keep_for: Duration) -> Self {
        self.settings.prune_after = Some(keep_for);
        self
    }

    /// No background work: the caller runs [`Payments::reconcile`] and
    /// [`Payments::run_hooks`] itself (a test, a one-off command). Without either, orders
    /// whose answer was lost stay in doubt and the hook is never told of anything.
    pub fn no_background(mut self) -> Self {
        self.settings.sweep_every = None;
        self
    }
}

impl<O, A, K, U, S> PaymentsBuilder<O, A, K, U, S> {
    /// The service, its background work started (on the tokio runtime it is built in).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the setting: an aid or secret [`Aid::new`] or
    /// [`AppSecret::new`] refuse, a URL that is not an absolute http(s) URL (plain http to
    /// XorPay only on loopback), a `notify_path` that is not a path, or no tokio runtime to
    /// run the background work on.
    pub fn build(self) -> Result<Payments<O>, ConfigError>
    where
        O: ServiceOrder,
        A: AidIsSet,
        K: SecretIsSet,
        U: NotifyUrlIsSet,
        S: StoreIsSet,
    {
        let settings = self.settings;
        let missing = |setting| ConfigError::new(setting, "it is not set");
        if settings.prune_after.is_some() {
            let why = if settings.sweep_every.is_none() {
                Some(
                    "the background work prunes, and `.no_background()` turns it off: call \
                     `payments.prune(keep_for)` yourself instead",
                )
            } else if settings.hook.is_none() {
                Some(
                    "an order is closed once the hook is told of it, and this service has no \
                     `.hook(…)`: nothing would ever be pruned",
                )
            } else {
                None
            };
            if let Some(why) = why {
                return Err(ConfigError::new("prune_closed_after", why));
            }
        }
        let aid = Aid::new(settings.aid.ok_or_else(|| missing("aid"))?)?;
        let secret = settings.secret.ok_or_else(|| missing("secret"))??;
        let notify_url = settings.notify_url.ok_or_else(|| missing("notify_url"))?;
        let store = settings.store.ok_or_else(|| missing("store"))?;
        crate::metrics::describe();
        warn_if_unusual(&aid, &secret);
        let notify_path = match settings.notify_path {
            Some(path) if path.starts_with('/') && !path.contains(['?', '#']) => path,
            Some(_) => {
                return Err(ConfigError::new(
                    "notify_path",
                    "it must be a path starting with `/`, without query or fragment",
                ));
            }
            None => web_url(&notify_url)
                .map(|url| url.path().to_owned())
                .ok_or_else(|| {
                    ConfigError::new(
                        "notify_url",
                        "it must be an absolute http(s) URL without fragment or user",
                    )
                })?,
        };
        let client = Client::assemble(
            aid,
            secret,
            Some(notify_url.clone()),
            settings.base_url,
            settings.timeout,
            Duration::from_secs(5),
            settings.query_retry,
        )?;
        let retired = match settings.previous_secret {
            Some((secret, retired_at)) => {
                let span = time::Duration::try_from(NOTIFY_RETRY_SPAN).unwrap_or_default();
                Some((secret?, retired_at.saturating_add(span)))
            }
            None => None,
        };
        // Longer than any request to XorPay takes, with the time to record its answer.
        let in_flight = settings.timeout.saturating_add(IN_FLIGHT_MARGIN);
        let mut reconcile = settings.reconcile;
        reconcile.stale_after = reconcile.stale_after.max(in_flight);
        let runtime = match settings.sweep_every {
            Some(every) => Some((
                tokio::runtime::Handle::try_current().map_err(|_| {
                    ConfigError::new(
                        "the background work",
                        "build() starts it on the tokio runtime, and there is none here: build \
                         the service inside one (`#[tokio::main]`), or turn it off with \
                         `.no_background()`",
                    )
                })?,
                every,
            )),
            None => None,
        };
        let payments = Payments {
            inner: Arc::new(Inner {
                client,
                store,
                retired,
                clock: settings.clock,
                reconcile,
                lease: settings.hook_lease,
                resolve_after: settings.refund_resolve_after.max(in_flight),
                prune: settings
                    .prune_after
                    .map(|keep_for| (keep_for, Throttle::new(PRUNE_EVERY))),
                personal: settings.personal,
                taking_orders: std::sync::atomic::AtomicBool::new(true),
                notify_url,
                notify_path,
                hook: settings.hook,
                // Without background work, each reconciliation the caller runs reads them.
                gauges: Throttle::new(settings.sweep_every.unwrap_or(Duration::ZERO)),
                signals: Arc::new(Signals::new()),
                background: Mutex::new(None),
            }),
        };
        if let Some((runtime, every)) = runtime {
            payments.start_background(&runtime, every);
        }
        Ok(payments)
    }
}

/// Warns once, at build time, about an aid or a secret unlike XorPay's (not refused: XorPay
/// does not document their form, and a sandbox may use others).
fn warn_if_unusual(aid: &Aid, secret: &AppSecret) {
    if let Some(why) = aid.oddity() {
        tracing::warn!(check = "aid shape", "the aid looks unusual: {why}");
    }
    if let Some(why) = secret.oddity() {
        tracing::warn!(
            check = "secret shape",
            "the app secret looks unusual: {why}"
        );
    }
}
