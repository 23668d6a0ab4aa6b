//! The one door: what the service guarantees beyond the scenarios, each a first mistake or a
//! misuse made impossible or loud. The background work is the service's own (no handle to
//! keep) and shuts down gracefully; the notify route is served at `notify_url`'s path; an
//! order carrying another notify URL, or an order id no store should hold, is refused before
//! anything is stored; a refund through a stale or never-stored typed order cannot refund
//! more than is left; the client stamps times with the service's clock; an unusual aid or
//! secret is warned about once at build time.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::world::Counting;
use support::{Captured, SECRET};
use tokio::sync::Notify;
use xorpay::prelude::*;
use xorpay::request::RequestError;
use xorpay::service::Clock;
use xorpay::{CheckoutError, OrderError, RefundError};
use xorpay_sandbox::Sandbox;

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = native, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn tea(id: &str, total: &str) -> Tea {
    Tea {
        id: id.into(),
        title: "乌龙茶".into(),
        total: total.parse().unwrap(),
    }
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_millis(20))
        .build()
        .start()
        .await
        .unwrap()
}

/// A free loopback address, and the service's notify URL on it.
fn address() -> (std::net::SocketAddr, String) {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    (addr, format!("http://{addr}/xorpay/notify"))
}

/// Serves `router` on `addr`.
async fn serve(addr: std::net::SocketAddr, router: axum::Router) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
}

/// Waits until `check` holds, for at most 15 s.
async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Settings at the ends of time build a service: a client timeout of `Duration::MAX` (no
/// timeout), and a previous secret retired at the last moment the clock holds. Each once
/// overflowed in `build` (the timeout plus the margin to record an answer; the retirement
/// plus the notify retry span) and panicked.
#[tokio::test]
async fn settings_at_the_ends_of_time_build() {
    let sandbox = sandbox().await;
    let (_, notify_url) = address();
    let end_of_time = xorpay::time::PrimitiveDateTime::MAX.assume_utc();
    let payments = Payments::<Tea>::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .previous_secret("an-older-secret", end_of_time)
        .notify_url(notify_url)
        .base_url(sandbox.base_url())
        .timeout(Duration::MAX)
        .store(SqliteStore::in_memory().unwrap())
        .build();
    assert!(payments.is_ok());
}

/// The background work belongs to the service: no handle to keep, so neither `let _ = …`
/// nor a statement that drops a value can stop it. The merchant builds the service with its
/// hook, serves its router, checks out, and the paid order is shipped.
#[tokio::test]
async fn the_service_ships_without_a_handle_to_keep() {
    let sandbox = sandbox().await;
    let (addr, notify_url) = address();
    let hook = Counting::default();
    let payments = Payments::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url(notify_url)
        .base_url(sandbox.base_url())
        .store(SqliteStore::in_memory().unwrap())
        .hook(hook.clone())
        .sweep_every(Duration::from_secs(3600))
        .build()
        .unwrap();
    // What dropped the work before: a discarded value, in both forms.
    let _ = payments.clone();
    drop(payments.clone());
    serve(addr, payments.router()).await;
    let Checkout::Pending(pending) = payments.checkout(tea("ship-1", "2.00")).await.unwrap() else {
        panic!("expected the order pending")
    };
    sandbox.pay(pending.aoid().unwrap().as_str()).await.unwrap();
    // Fulfilled at once after the payment, an hour before the next sweep.
    until("the hook ran", async || hook.runs("ship-1") == 1).await;
    until("the fulfilment was recorded", async || {
        let listed = payments.recent(1).await.unwrap();
        listed[0].fulfilled_at.is_some()
    })
    .await;
}

/// A hook that waits at a gate, so that a test can shut down while it runs.
#[derive(Clone, Default)]
struct Gated {
    started: Arc<Notify>,
    gate: Arc<Notify>,
    runs: Arc<Mutex<Vec<String>>>,
}

impl Hook<Tea> for Gated {
    async fn on(&self, event: Event<'_, Tea>) -> Result<(), HookError> {
        let Event::Paid(order) = event else {
            return Ok(());
        };
        self.started.notify_one();
        self.gate.notified().await;
        self.runs.lock().unwrap().push(order.order_id().to_owned());
        Ok(())
    }
}

/// Shutdown is graceful: the hook call in flight finishes and is recorded, and nothing new
/// is claimed afterwards.
#[tokio::test]
async fn shutdown_lets_the_hook_in_flight_finish_and_records_it() {
    let sandbox = sandbox().await;
    let (addr, notify_url) = address();
    let dir = support::TempDir::new("shutdown");
    let file = dir.path().join("orders.sqlite");
    let hook = Gated::default();
    let payments = Payments::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url(notify_url.as_str())
        .base_url(sandbox.base_url())
        .store(SqliteStore::open(&file).unwrap())
        .hook(hook.clone())
        .sweep_every(Duration::from_secs(3600))
        .build()
        .unwrap();
    serve(addr, payments.router()).await;
    let started = hook.started.notified();
    tokio::pin!(started);
    started.as_mut().enable();
    for id in ["gate-1", "gate-2"] {
        let Checkout::Pending(pending) = payments.checkout(tea(id, "1.00")).await.unwrap() else {
            panic!("expected {id} pending")
        };
        sandbox.pay(pending.aoid().unwrap().as_str()).await.unwrap();
    }
    let paid = async |id: &str| {
        matches!(
            payments.order(id).await.unwrap(),
            Some(StoredOrder::Paid(_))
        )
    };
    until("both paid", async || {
        paid("gate-1").await && paid("gate-2").await
    })
    .await;
    // The hook is running on one of them.
    tokio::time::timeout(Duration::from_secs(10), started)
        .await
        .expect("the hook started");
    let shutdown = tokio::spawn({
        let payments = payments.clone();
        async move { payments.shutdown().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown did not wait for the hook"
    );
    hook.gate.notify_one();
    tokio::time::timeout(Duration::from_secs(10), shutdown)
        .await
        .expect("shutdown finished once the hook did")
        .unwrap();
    // The one in flight is recorded fulfilled; the other was not claimed.
    let runs = hook.runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let listed = payments.recent(10).await.unwrap();
    let fulfilled: Vec<&str> = listed
        .iter()
        .filter(|listed| listed.fulfilled_at.is_some())
        .map(|listed| listed.order.order_id())
        .collect();
    assert_eq!(fulfilled, [runs[0].as_str()]);
    // No claim is left behind: another process's sweep hands the other order over at once.
    let counting = Counting::default();
    let other = Payments::<Tea>::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url(notify_url.as_str())
        .base_url(sandbox.base_url())
        .store(SqliteStore::open(&file).unwrap())
        .hook(counting.clone())
        .no_background()
        .build()
        .unwrap();
    let swept = other.run_hooks().await.unwrap();
    assert_eq!(swept.done, 1, "{swept:?}");
    let unclaimed = if runs[0] == "gate-1" {
        "gate-2"
    } else {
        "gate-1"
    };
    assert_eq!(counting.runs(unclaimed), 1);
}

/// The router serves exactly the path of `notify_url`; another path needs the override.
#[tokio::test]
async fn the_notify_route_is_served_at_the_notify_urls_path_unless_overridden() {
    let (addr, notify_url) = address();
    let service = |path: Option<&str>| {
        let settings = Payments::<Tea>::builder()
            .aid("1000")
            .secret(SECRET)
            .notify_url(notify_url.as_str())
            .store(SqliteStore::in_memory().unwrap())
            .no_background();
        match path {
            Some(path) => settings.notify_path(path).build().unwrap(),
            None => settings.build().unwrap(),
        }
    };
    let http = reqwest::Client::new();
    let post = async |base: &str, path: &str| {
        http.post(format!("{base}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("not=a notification")
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    serve(addr, service(None).router()).await;
    let base = format!("http://{addr}");
    // Reached (and refused as no genuine notification), at notify_url's path only.
    assert_eq!(post(&base, "/xorpay/notify").await, 400);
    assert_eq!(post(&base, "/notify").await, 404);

    let (moved, _) = address();
    serve(moved, service(Some("/notify")).router()).await;
    let base = format!("http://{moved}");
    assert_eq!(post(&base, "/notify").await, 400);
    assert_eq!(post(&base, "/xorpay/notify").await, 404);
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/other/notify")]
struct Elsewhere {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

/// An order carrying its own notify URL, not the service's: XorPay would post where no route
/// listens. Refused before anything is stored or sent.
#[tokio::test]
async fn checkout_refuses_an_order_whose_notify_url_is_not_the_services() {
    let sandbox = sandbox().await;
    let payments = Payments::<Elsewhere>::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url("https://shop.example.com/xorpay/notify")
        .base_url(sandbox.base_url())
        .store(SqliteStore::in_memory().unwrap())
        .no_background()
        .build()
        .unwrap();
    let order = Elsewhere {
        id: "elsewhere-1".into(),
        title: "t".into(),
        total: Price::MIN,
    };
    let refused = payments.checkout(order).await;
    assert!(
        matches!(
            &refused,
            Err(CheckoutError::Invalid(RequestError::NotifyUrlDiffers))
        ),
        "{refused:?}"
    );
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("from_client"), "{message}");
    assert!(payments.order("elsewhere-1").await.unwrap().is_none());
    assert!(sandbox.orders().is_empty());
}

/// Order ids with control characters or longer than 64 bytes are refused before anything
/// is stored (XorPay documents no limit; the library's is `request::MAX_ORDER_ID`).
#[tokio::test]
async fn order_ids_with_control_characters_or_too_long_are_refused_before_storing() {
    let sandbox = sandbox().await;
    let payments = Payments::<Tea>::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .notify_url("https://shop.example.com/xorpay/notify")
        .base_url(sandbox.base_url())
        .store(SqliteStore::in_memory().unwrap())
        .no_background()
        .build()
        .unwrap();
    let long = "x".repeat(xorpay::request::MAX_ORDER_ID + 1);
    for id in ["order\n1", "order\t1", "order\u{85}1", long.as_str()] {
        let refused = payments.checkout(tea(id, "1.00")).await;
        assert!(
            matches!(
                refused,
                Err(CheckoutError::Invalid(RequestError::InvalidValue {
                    field: "order_id",
                    ..
                }))
            ),
            "{id:?}: {refused:?}"
        );
        assert!(payments.order(id).await.unwrap().is_none(), "{id:?}");
    }
    assert!(sandbox.orders().is_empty());
    // At the limit, accepted.
    let at_limit = "y".repeat(xorpay::request::MAX_ORDER_ID);
    assert!(payments.checkout(tea(&at_limit, "1.00")).await.is_ok());
}

/// Refunds take the paid order as the merchant holds it, but decide on the stored row: a
/// stale copy (a refund made since through another) never refunds more than is left, and a
/// paid order that was never stored (moved by a pure transition) is refused.
#[tokio::test]
async fn a_stale_or_never_stored_paid_order_cannot_refund_more_than_is_left() {
    let world = support::world::World::<Tea>::new().await;
    let payments = world.payments();
    let _ = payments.checkout(tea("stale-1", "10.00")).await.unwrap();
    world.pay("stale-1").await;
    world.wait_stored("stale-1", "paid").await;
    world
        .wait_until("stale-1", xorpay_sandbox::OrderState::Success)
        .await;
    let stale = world.paid("stale-1").await;
    let fresh = world.paid("stale-1").await;
    payments
        .refund(&fresh, "6.00".parse::<Price>().unwrap(), "first")
        .await
        .unwrap();
    // The stale copy still says 10.00 is left; the store says 4.00.
    assert_eq!(stale.refundable(), Some("10.00".parse().unwrap()));
    let refused = payments
        .refund(&stale, "6.00".parse::<Price>().unwrap(), "second")
        .await;
    assert!(
        matches!(
            refused,
            Err(RefundError::ExceedsRefundable {
                refundable: Some(left),
                ..
            }) if left == "4.00".parse().unwrap()
        ),
        "{refused:?}"
    );
    payments
        .refund(&stale, "4.00".parse::<Price>().unwrap(), "second")
        .await
        .unwrap();
    world.agree("stale-1").await;
    assert_eq!(
        world
            .sandbox
            .order_by_order_id("stale-1")
            .unwrap()
            .refunded_fen,
        1000
    );

    // A paid order made by a pure transition from a pending one that was never stored.
    let format = &xorpay::time::format_description::well_known::Rfc3339;
    let now = xorpay::time::OffsetDateTime::now_utc();
    let aoid = "0123456789abcdef0123456789abcdef";
    let stored = serde_json::json!({
        "state": "pending",
        "order": { "id": "ghost-1", "title": "乌龙茶", "total": "10.00" },
        "data": {
            "aoid": aoid,
            "payment": { "qr": "weixin://wxpay/bizpayurl?pr=ghost" },
            "submitted_at": now.format(format).unwrap(),
            "expires_at": now.format(format).unwrap(),
        },
    });
    let Ok(StoredOrder::Pending(ghost)) = serde_json::from_value::<StoredOrder<Tea>>(stored) else {
        panic!("expected a pending order")
    };
    let body = support::signed_notification(aoid, "ghost-1", "10.00");
    let verified = xorpay::Notification::parse(body.as_bytes())
        .unwrap()
        .verify(&AppSecret::new(SECRET).unwrap())
        .unwrap();
    let ghost = ghost.confirm(verified).unwrap();
    let refused = payments
        .refund(&ghost, "1.00".parse::<Price>().unwrap(), "ghost")
        .await;
    assert!(
        matches!(refused, Err(RefundError::Order(OrderError::Unknown { .. }))),
        "{refused:?}"
    );
    assert!(world.sandbox.order_by_order_id("ghost-1").is_none());
}

/// Of many concurrent deliveries of one notification, exactly one is the one that paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_concurrent_deliveries_exactly_one_is_new() {
    let world = support::world::World::<Tea>::new().await;
    world.notifications_answer(503);
    let _ = world
        .payments()
        .checkout(tea("once-1", "3.00"))
        .await
        .unwrap();
    let body = support::signed_notification(&world.aoid("once-1"), "once-1", "3.00");
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let payments = world.payments();
            let body = body.clone();
            tokio::spawn(async move { payments.confirm(body.as_bytes()).await })
        })
        .collect();
    let mut new = 0;
    for task in tasks {
        let confirmed = task.await.unwrap().unwrap();
        assert_eq!(confirmed.order_id(), "once-1");
        new += usize::from(confirmed.is_new());
    }
    assert_eq!(new, 1);
}

/// The client stamps an order with the service's clock, not the system's: with the
/// service's clock hours behind real time, an order whose notifications all failed is still
/// stale for reconciliation five minutes (of that clock) later, and recorded paid.
#[tokio::test]
async fn a_clock_behind_real_time_still_reconciles_a_paid_order() {
    let sandbox = sandbox().await;
    let clock =
        Clock::manual(xorpay::time::OffsetDateTime::now_utc() - xorpay::time::Duration::hours(5));
    let payments = Payments::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        // Nobody listens there: every notification fails.
        .notify_url("http://127.0.0.1:9/xorpay/notify")
        .base_url(sandbox.base_url())
        .store(SqliteStore::in_memory().unwrap())
        .clock(clock.clone())
        .no_background()
        .build()
        .unwrap();
    let Checkout::Pending(pending) = payments.checkout(tea("clock-1", "5.00")).await.unwrap()
    else {
        panic!("expected the order pending")
    };
    assert_eq!(pending.submitted_at(), clock.now());
    sandbox.pay(pending.aoid().unwrap().as_str()).await.unwrap();
    clock.advance(xorpay::time::Duration::minutes(5));
    let report = payments.reconcile().await.unwrap();
    assert_eq!(report.paid.len(), 1, "{report:?}");
    assert!(matches!(
        payments.order("clock-1").await.unwrap(),
        Some(StoredOrder::Paid(_))
    ));
}

/// An aid that is not digits, or a secret that is not 32 lowercase hex characters, is
/// accepted (XorPay documents neither form) and warned about once, at build time, naming the
/// check.
#[test]
fn an_unusual_aid_or_secret_is_warned_about_once_at_build_time() {
    let build = |aid: &str, secret: &str| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            Payments::<Tea>::builder()
                .aid(aid)
                .secret(secret)
                .notify_url("https://shop.example.com/xorpay/notify")
                .store(SqliteStore::in_memory().unwrap())
                .no_background()
                .build()
                .unwrap()
        });
        captured.text()
    };
    assert_eq!(build("1000", SECRET), "");
    let log = build("abc", SECRET);
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("WARN") && log.contains("aid shape"), "{log}");
    let log = build("1000", "short");
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("secret shape"), "{log}");
    assert!(!log.contains("short"), "the secret was logged: {log}");
    let log = build("-1", "0123456789ABCDEF0123456789ABCDEF");
    assert_eq!(log.lines().count(), 2, "{log}");
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug, Clone)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct Flowers {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

/// A merchant on a personal account: an order above XorPay's per-payment limit for its kind
/// (docs/protocol.md §6.1: WeChat ¥20,000, Alipay ¥1,000) is refused before it is stored or
/// sent; one at the limit goes through. A merchant who declared nothing sends both.
#[tokio::test]
async fn a_personal_account_refuses_a_payment_above_its_limit_before_sending_it() {
    fn service<O: xorpay::service::ServiceOrder>(sandbox: &Sandbox, personal: bool) -> Payments<O> {
        let builder = Payments::builder()
            .aid(sandbox.aid())
            .secret(SECRET)
            .notify_url("http://127.0.0.1:9/xorpay/notify")
            .base_url(sandbox.base_url())
            .store(SqliteStore::in_memory().unwrap())
            .no_background();
        match personal {
            true => builder.personal_account().build().unwrap(),
            false => builder.build().unwrap(),
        }
    }
    let sandbox = sandbox().await;
    let flowers = |id: &str, total: &str| Flowers {
        id: id.into(),
        title: "花束".into(),
        total: total.parse().unwrap(),
    };

    let personal: Payments<Flowers> = service(&sandbox, true);
    let refused = personal.checkout(flowers("big-1", "1000.01")).await;
    let Err(CheckoutError::OverLimit {
        order_id,
        price,
        limit,
    }) = refused
    else {
        panic!("expected OverLimit, got {refused:?}")
    };
    assert_eq!(
        (order_id.as_str(), price.to_string(), limit.to_string()),
        ("big-1", "1000.01".into(), "1000.00".into())
    );
    assert!(
        personal.order("big-1").await.unwrap().is_none(),
        "it was stored"
    );
    assert!(sandbox.order_by_order_id("big-1").is_none(), "it was sent");
    let at_limit = personal.checkout(flowers("big-2", "1000.00")).await;
    assert!(matches!(at_limit, Ok(Checkout::Pending(_))), "{at_limit:?}");

    let wechat: Payments<Tea> = service(&sandbox, true);
    let refused = wechat.checkout(tea("big-3", "20000.01")).await;
    assert!(
        matches!(refused, Err(CheckoutError::OverLimit { .. })),
        "{refused:?}"
    );
    assert!(sandbox.order_by_order_id("big-3").is_none(), "it was sent");
    let at_limit = wechat.checkout(tea("big-4", "20000.00")).await;
    assert!(matches!(at_limit, Ok(Checkout::Pending(_))), "{at_limit:?}");

    let company: Payments<Flowers> = service(&sandbox, false);
    let sent = company.checkout(flowers("big-5", "1000.01")).await;
    assert!(matches!(sent, Ok(Checkout::Pending(_))), "{sent:?}");
    assert!(sandbox.order_by_order_id("big-5").is_some());
}
