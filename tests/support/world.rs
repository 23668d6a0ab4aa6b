//! A merchant's world for service-level tests: an in-process sandbox, the lifecycle service on
//! a store file, the service's notify endpoint on a loopback port (forwarding to whichever
//! service instance is current, so a test can restart the service between steps), a
//! fulfilment hook that counts its calls, and a check that the store and the sandbox agree.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use xorpay::prelude::*;
use xorpay::service::{Clock, ServiceOrder};
use xorpay_sandbox::{OrderState, Sandbox};

use super::{SECRET, TempDir};

/// A hook that counts how often it was told of each event: a paid order under its number,
/// any other event as `"{name} {order_id} {detail}"` (the refund's key, or why it needs a
/// person).
#[derive(Clone, Default)]
pub(crate) struct Counting(Arc<Mutex<HashMap<String, usize>>>);

impl Counting {
    /// How often the order was fulfilled.
    pub(crate) fn runs(&self, order_id: &str) -> usize {
        self.told(order_id)
    }

    /// How often the event `key` was told.
    pub(crate) fn told(&self, key: &str) -> usize {
        self.0.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    /// Every event told other than a payment, with how often, sorted.
    pub(crate) fn others(&self) -> Vec<(String, usize)> {
        let mut others: Vec<_> = self
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|(key, _)| key.contains(' '))
            .map(|(key, count)| (key.clone(), *count))
            .collect();
        others.sort();
        others
    }
}

impl<O: Send + Sync + 'static> Hook<O> for Counting {
    async fn on(&self, event: Event<'_, O>) -> Result<(), HookError> {
        let order_id = event.order_id().to_owned();
        let key = match &event {
            Event::Paid(_) => order_id,
            Event::RefundMade { refund, .. } | Event::RefundNotMade { refund, .. } => {
                format!("{} {order_id} {}", event.name(), refund.key())
            }
            Event::NeedsAttention { why, .. } => format!("{} {order_id} {why:?}", event.name()),
            _ => format!("{} {order_id} -", event.name()),
        };
        *self.0.lock().unwrap().entry(key).or_default() += 1;
        Ok(())
    }
}

/// The database a world keeps its orders in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Db {
    /// A SQLite file, opened again at each restart.
    Sqlite,
    /// A schema of its own in the test PostgreSQL (`support::postgres`).
    Postgres,
    /// A database of its own on the test MySQL server (`support::mysql`).
    MySql,
}

/// Where a world's service instances find their store.
enum Backing {
    /// `orders.sqlite` in the world's directory, opened by each instance.
    File,
    /// A database server: each instance gets the same pool, as processes share a database;
    /// the URL opens another pool on it.
    Server(xorpay::store::AnyStore, String),
}

pub(crate) struct World<O> {
    pub(crate) sandbox: Sandbox,
    pub(crate) clock: Clock,
    pub(crate) hook: Counting,
    pub(crate) notify_url: String,
    current: Arc<RwLock<Payments<O>>>,
    /// When not 0, the notify endpoint answers this status without looking (it is down).
    down: Arc<AtomicU16>,
    timeout: Duration,
    dir: TempDir,
    backing: Backing,
}

impl<O: ServiceOrder> World<O> {
    /// A world on `db`; `None` (the test skips, or fails under the "require" switch) when
    /// that database is not there.
    pub(crate) async fn on(db: Db) -> Option<World<O>> {
        let backing = match db {
            Db::Sqlite => Backing::File,
            Db::Postgres => {
                let url = super::postgres::fresh_schema_url().await?;
                let store = xorpay::store::AnyStore::open(&url).await.unwrap();
                Backing::Server(store, url)
            }
            Db::MySql => {
                let url = super::mysql::fresh_database_url().await?;
                let store = xorpay::store::AnyStore::open(&url).await.unwrap();
                Backing::Server(store, url)
            }
        };
        Some(World::with(backing, Duration::from_millis(500)).await)
    }

    pub(crate) async fn new() -> World<O> {
        World::with_timeout(Duration::from_millis(500)).await
    }

    /// With this client timeout (answers later than it are lost to the service).
    pub(crate) async fn with_timeout(timeout: Duration) -> World<O> {
        World::with(Backing::File, timeout).await
    }

    async fn with(backing: Backing, timeout: Duration) -> World<O> {
        let sandbox = Sandbox::builder()
            .secret(SECRET)
            .retry_unit(Duration::from_millis(20))
            .build()
            .start()
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let notify_url = format!("http://{}/notify", listener.local_addr().unwrap());
        let dir = TempDir::new("world");
        let clock = Clock::manual(xorpay::time::OffsetDateTime::now_utc());
        let hook = Counting::default();
        let setup = Setup::new(
            &sandbox,
            &notify_url,
            &dir,
            &backing,
            &clock,
            &hook,
            timeout,
        );
        let payments = build(setup);
        let current = Arc::new(RwLock::new(payments));
        let down = Arc::new(AtomicU16::new(0));
        let (route_current, route_down) = (Arc::clone(&current), Arc::clone(&down));
        let app = axum::Router::new().route(
            "/notify",
            axum::routing::post(move |body: Bytes| {
                let payments = route_current.read().unwrap().clone();
                let down = route_down.load(Ordering::SeqCst);
                async move {
                    if down != 0 {
                        return StatusCode::from_u16(down).unwrap().into_response();
                    }
                    match payments.confirm(&body).await {
                        Ok(confirmed) => confirmed.into_response(),
                        Err(error) => error.into_response(),
                    }
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        World {
            sandbox,
            clock,
            hook,
            notify_url,
            current,
            down,
            timeout,
            dir,
            backing,
        }
    }

    /// The service as it is now.
    pub(crate) fn payments(&self) -> Payments<O> {
        self.current.read().unwrap().clone()
    }

    /// The merchant's process restarts: a new service on the same store (its file opened
    /// again) and clock (the sandbox stays up).
    pub(crate) fn restart(&self) {
        self.restart_with(None);
    }

    /// Restarts with a retired secret accepted until its window ends.
    pub(crate) fn restart_with(&self, secret: Option<(&'static str, Option<Retired>)>) {
        let mut setup = self.setup();
        if let Some((current, retired)) = secret {
            setup.secret = current;
            setup.retired = retired;
        }
        *self.current.write().unwrap() = build(setup);
    }

    /// Another service instance for the same merchant (another process), on `store` with
    /// `hook`, without background work.
    pub(crate) fn another(
        &self,
        store: impl Into<xorpay::store::AnyStore>,
        hook: impl Hook<O>,
    ) -> Payments<O> {
        Payments::builder()
            .aid(self.sandbox.aid())
            .secret(SECRET)
            .notify_url(self.notify_url.as_str())
            .store(store)
            .base_url(self.sandbox.base_url())
            .clock(self.clock.clone())
            .timeout(self.timeout)
            .hook(hook)
            .hook_lease(Duration::from_secs(2))
            .no_background()
            .build()
            .unwrap()
    }

    /// A second instance on the world's own database (as another process: the file opened
    /// again, or another pool on the server), with the world's hook.
    pub(crate) async fn second_instance(&self) -> Payments<O> {
        let store = match &self.backing {
            Backing::File => SqliteStore::open(self.db()).unwrap().into(),
            Backing::Server(_, url) => xorpay::store::AnyStore::open(url).await.unwrap(),
        };
        self.another(store, self.hook.clone())
    }

    /// Restarts with XorPay unreachable: nothing the service sends gets through.
    pub(crate) fn restart_unreachable(&self) {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let mut setup = self.setup();
        setup.base_url = base_url;
        *self.current.write().unwrap() = build(setup);
    }

    /// Restarts with this reconciliation policy.
    /// Restarts with refunds in doubt resolvable only `wait` after they were asked.
    pub(crate) fn restart_with_refund_wait(&self, wait: Duration) {
        let mut setup = self.setup();
        setup.refund_wait = Some(wait);
        *self.current.write().unwrap() = build(setup);
    }

    pub(crate) fn restart_with_policy(&self, policy: xorpay::service::ReconcilePolicy) {
        let mut setup = self.setup();
        setup.reconcile = policy;
        *self.current.write().unwrap() = build(setup);
    }

    fn setup(&self) -> Setup<'_> {
        Setup::new(
            &self.sandbox,
            &self.notify_url,
            &self.dir,
            &self.backing,
            &self.clock,
            &self.hook,
            self.timeout,
        )
    }

    /// The notify endpoint answers `status` to everything (0: it is back).
    pub(crate) fn notifications_answer(&self, status: u16) {
        self.down.store(status, Ordering::SeqCst);
    }

    /// The URL of the world's database server, `None` on SQLite (see [`World::db`]).
    pub(crate) fn database_url(&self) -> Option<&str> {
        match &self.backing {
            Backing::File => None,
            Backing::Server(_, url) => Some(url),
        }
    }

    /// An instance without a hook on the world's database: the operator's command line.
    pub(crate) async fn without_hook(&self) -> Payments<O> {
        let store = match &self.backing {
            Backing::File => SqliteStore::open(self.db()).unwrap().into(),
            Backing::Server(_, url) => xorpay::store::AnyStore::open(url).await.unwrap(),
        };
        Payments::builder()
            .aid(self.sandbox.aid())
            .secret(SECRET)
            .notify_url(self.notify_url.as_str())
            .store(store)
            .base_url(self.sandbox.base_url())
            .clock(self.clock.clone())
            .timeout(self.timeout)
            .no_background()
            .build()
            .unwrap()
    }

    /// The store's file.
    pub(crate) fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("orders.sqlite")
    }

    /// The sandbox's aoid of an order.
    pub(crate) fn aoid(&self, order_id: &str) -> String {
        self.sandbox.order_by_order_id(order_id).unwrap().aoid
    }

    /// The payer pays, and the notification is applied (or given up).
    pub(crate) async fn pay(&self, order_id: &str) {
        let aoid = self.aoid(order_id);
        self.sandbox.pay(&aoid).await.unwrap();
    }

    /// Waits until XorPay's books show the order in `state`.
    pub(crate) async fn wait_until(&self, order_id: &str, state: OrderState) {
        let aoid = self.aoid(order_id);
        let seen = self
            .sandbox
            .wait_for(&aoid, Duration::from_secs(15), |order| order.state == state)
            .await
            .unwrap();
        assert_eq!(seen.state, state, "{order_id}: {seen:?}");
    }

    /// Waits until the store holds the order in `state`.
    pub(crate) async fn wait_stored(&self, order_id: &str, state: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let now = self.stored(order_id).await.map(|o| o.state_name());
            if now == Some(state) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{order_id} never became {state} (is {now:?})"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(crate) async fn stored(&self, order_id: &str) -> Option<StoredOrder<O>> {
        self.payments().order(order_id).await.unwrap()
    }

    pub(crate) async fn paid(&self, order_id: &str) -> Order<O, Paid> {
        match self.stored(order_id).await {
            Some(StoredOrder::Paid(paid)) => paid,
            other => panic!(
                "expected {order_id} paid, found {:?}",
                other.map(|o| o.state_name())
            ),
        }
    }

    /// Refunds the paid order `order_id` as a merchant does: loads it, then refunds it.
    pub(crate) async fn refund(
        &self,
        order_id: &str,
        amount: Price,
        key: &str,
    ) -> Result<xorpay::order::Refund, xorpay::RefundError> {
        let paid = self.paid(order_id).await;
        self.payments().refund(&paid, amount, key).await
    }

    /// Resolves the refund `key` of the paid order `order_id` as the dashboard shows it.
    pub(crate) async fn resolve_refund(
        &self,
        order_id: &str,
        key: &str,
        made: bool,
    ) -> Result<xorpay::order::Refund, xorpay::RefundError> {
        let paid = self.paid(order_id).await;
        self.payments().resolve_refund(&paid, key, made).await
    }

    /// Runs the fulfilment sweep.
    pub(crate) async fn run_hooks(&self) {
        self.payments().run_hooks().await.unwrap();
    }

    /// The store and the sandbox agree on the order: its state, its `aoid` when the store
    /// knows it, the amount paid and the amount refunded (a refund in doubt is neither).
    pub(crate) async fn agree(&self, order_id: &str) {
        let xorpay = self
            .sandbox
            .order_by_order_id(order_id)
            .expect("xorpay has the order");
        let stored = self.stored(order_id).await.expect("stored");
        let (state, aoid) = match &stored {
            StoredOrder::Created(_) => ("created", None),
            StoredOrder::Pending(order) => ("pending", order.aoid()),
            StoredOrder::Paid(order) => ("paid", order.aoid()),
            StoredOrder::Expired(order) => ("expired", order.aoid()),
        };
        let expected = match xorpay.state {
            OrderState::New => "pending",
            OrderState::Payed | OrderState::Success => "paid",
            OrderState::Expire => "expired",
            other => panic!("unexpected state {other:?}"),
        };
        assert_eq!(
            state, expected,
            "{order_id}: store {state}, xorpay {xorpay:?}"
        );
        if let Some(aoid) = aoid {
            assert_eq!(aoid.as_str(), xorpay.aoid);
        }
        if let StoredOrder::Paid(paid) = &stored {
            assert_eq!(paid.paid_price().fen(), xorpay.price_fen);
            assert_eq!(
                paid.refunded().map_or(0, Price::fen),
                xorpay.refunded_fen,
                "{order_id}: refunded"
            );
            assert_eq!(usize::from(paid.refund_count()), xorpay.refunds.len());
        }
    }
}

/// A retired secret and when it was replaced.
pub(crate) type Retired = (&'static str, xorpay::time::OffsetDateTime);

/// How a service instance is set up.
struct Setup<'a> {
    notify_url: &'a str,
    dir: &'a TempDir,
    backing: &'a Backing,
    clock: &'a Clock,
    hook: &'a Counting,
    timeout: Duration,
    aid: String,
    base_url: String,
    secret: &'a str,
    retired: Option<Retired>,
    reconcile: xorpay::service::ReconcilePolicy,
    refund_wait: Option<Duration>,
}

impl<'a> Setup<'a> {
    fn new(
        sandbox: &Sandbox,
        notify_url: &'a str,
        dir: &'a TempDir,
        backing: &'a Backing,
        clock: &'a Clock,
        hook: &'a Counting,
        timeout: Duration,
    ) -> Setup<'a> {
        Setup {
            notify_url,
            dir,
            backing,
            clock,
            hook,
            timeout,
            aid: sandbox.aid().to_owned(),
            base_url: sandbox.base_url().to_owned(),
            secret: SECRET,
            retired: None,
            reconcile: xorpay::service::ReconcilePolicy::default(),
            refund_wait: None,
        }
    }
}

/// The service as the scenarios drive it: no background work (each test runs
/// reconciliation and fulfilment itself, on its manual clock).
fn build<O: ServiceOrder>(setup: Setup<'_>) -> Payments<O> {
    let config = Payments::builder()
        .aid(setup.aid)
        .secret(setup.secret)
        .notify_url(setup.notify_url)
        .store(match setup.backing {
            Backing::File => SqliteStore::open(setup.dir.path().join("orders.sqlite"))
                .unwrap()
                .into(),
            Backing::Server(store, _) => store.clone(),
        })
        .base_url(setup.base_url)
        .clock(setup.clock.clone())
        .timeout(setup.timeout)
        .reconcile(setup.reconcile)
        .hook(setup.hook.clone())
        .hook_lease(Duration::from_secs(2))
        .no_background();
    let config = match setup.refund_wait {
        Some(wait) => config.refund_resolve_after(wait),
        None => config,
    };
    match setup.retired {
        Some((secret, retired_at)) => config.previous_secret(secret, retired_at).build().unwrap(),
        None => config.build().unwrap(),
    }
}

/// Each test, once per database, on a runtime of two threads: modules `sqlite`, `postgres` and
/// `mysql`, each test calling `super::<test>(super::Db::…)` (the file imports `Db`).
#[allow(unused_macros)]
macro_rules! on_every_store {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Db::Postgres).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Db::MySql).await;
                }
            )*
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_every_store;
