//! The service and its client against the local XorPay (xorpay-sandbox), in process, over
//! real HTTP: the whole JSAPI flow, every kind of order, the queries, settling a pending
//! order at once, refunds and their limits, XorPay's refusals as typed errors, each fault the
//! sandbox can inject, retries, and tracing without secrets. Notifications go to a receiver
//! the test controls, which hands their bodies to `Payments::confirm`.

mod support;

use std::time::Duration;

use support::{Captured, SECRET};
use xorpay::client::{Call, Client, ClientError, RetryPolicy, openid_from_callback};
use xorpay::order::{ConfirmError, ConfirmedBy};
use xorpay::prelude::*;
use xorpay::service::Clock;
use xorpay::store::AnyStore;
use xorpay::{ApiError, CheckoutError, NotifyError, OrderState, PaymentInfo, RefundError};
use xorpay_sandbox::{FaultTimes, Route, RouteFault, Sandbox};
use xorpay_testkit::Receiver;

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .aid("1000")
        .secret(SECRET)
        .retry_unit(Duration::from_millis(10))
        .build()
        .start()
        .await
        .unwrap()
}

/// The query retries of these tests: three tries, quickly.
const RETRY: RetryPolicy = RetryPolicy {
    attempts: 3,
    initial_backoff: Duration::from_millis(20),
    max_backoff: Duration::from_millis(40),
};

/// A service on `store`, whose notifications go to the receiver, with the manual clock at the
/// real time and no background work.
fn service_on<O: xorpay::service::ServiceOrder>(
    sandbox: &Sandbox,
    receiver: &Receiver,
    secret: &str,
    store: AnyStore,
) -> Payments<O> {
    Payments::builder()
        .aid(sandbox.aid())
        .secret(secret)
        .notify_url(receiver.url.as_str())
        .store(store)
        .base_url(sandbox.base_url())
        .timeout(Duration::from_millis(800))
        .query_retry(RETRY)
        .clock(Clock::manual(xorpay::time::OffsetDateTime::now_utc()))
        .no_background()
        .build()
        .unwrap()
}

fn service<O: xorpay::service::ServiceOrder>(
    sandbox: &Sandbox,
    receiver: &Receiver,
) -> Payments<O> {
    service_on(
        sandbox,
        receiver,
        SECRET,
        SqliteStore::in_memory().unwrap().into(),
    )
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

#[derive(XorPayOrder, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = jsapi, notify_url = from_client)]
struct JsapiOrder {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(openid)]
    openid: String,
}

#[derive(XorPayOrder, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = native, notify_url = from_client)]
struct NativeOrder {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

#[derive(XorPayOrder, Debug, Clone, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = alipay, notify_url = from_client)]
struct AlipayOrder {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(expire)]
    ttl: u32,
}

#[derive(XorPayOrder, Debug, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = wechat_barcode, notify_url = from_client)]
struct Scan {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(barcode)]
    code: String,
}

#[derive(XorPayOrder, Debug, serde::Serialize, serde::Deserialize)]
#[xorpay(kind = cashier, notify_url = from_client)]
struct CashierOrder {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn native(id: &str, total: &str) -> NativeOrder {
    NativeOrder {
        id: id.into(),
        title: "咖啡".into(),
        total: price(total),
    }
}

/// Checks an order out and expects it pending.
async fn pending<O: xorpay::service::ServiceOrder + std::fmt::Debug>(
    payments: &Payments<O>,
    order: O,
) -> Order<O, Pending> {
    match payments.checkout(order).await {
        Ok(Checkout::Pending(pending)) => pending,
        other => panic!("expected the order pending, got {other:?}"),
    }
}

/// The order `id`, which must be stored as paid.
async fn load_paid<O: xorpay::service::ServiceOrder>(
    payments: &Payments<O>,
    id: &str,
) -> Order<O, Paid> {
    match payments.order(id).await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!(
            "expected {id} paid, found {:?}",
            other.map(|o| o.state_name())
        ),
    }
}

/// The payer pays `aoid`; its notification reaches the service, which records it.
async fn pay_and_confirm<O: xorpay::service::ServiceOrder>(
    sandbox: &Sandbox,
    receiver: &mut Receiver,
    payments: &Payments<O>,
    aoid: &str,
) {
    sandbox.pay(aoid).await.unwrap();
    let body = receiver.next_body().await;
    assert!(payments.confirm(&body).await.unwrap().is_new());
    // XorPay refunds only once the notification is acknowledged (`success`).
    sandbox
        .wait_for(aoid, Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await;
}

/// A native order checked out and paid.
async fn paid_native(
    sandbox: &Sandbox,
    receiver: &mut Receiver,
    id: &str,
    total: &str,
) -> Payments<NativeOrder> {
    let payments = service(sandbox, receiver);
    let order = pending(&payments, native(id, total)).await;
    let aoid = order.aoid().unwrap().to_string();
    pay_and_confirm(sandbox, receiver, &payments, &aoid).await;
    payments
}

/// Refunds `amount` of the paid order `id` under a new key.
async fn refund(
    payments: &Payments<NativeOrder>,
    id: &str,
    amount: Price,
) -> Result<xorpay::order::Refund, RefundError> {
    let paid = load_paid(payments, id).await;
    let key = uuid::Uuid::new_v4().simple().to_string();
    payments.refund(&paid, amount, &key).await
}

/// The payer's openid, through the sandbox's openid redirect as a browser would follow it.
async fn openid(client: &Client, callback: &str) -> String {
    let expected_prefix = if callback.contains('?') {
        format!("{callback}&openid=")
    } else {
        format!("{callback}?&openid=")
    };
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = no_redirects
        .get(client.openid_url(callback).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&expected_prefix), "{location}");
    openid_from_callback(&location).expect("an openid in the callback")
}

#[tokio::test]
async fn the_whole_jsapi_flow_ends_in_a_paid_order() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let payments = service::<JsapiOrder>(&sandbox, &receiver);

    // The callback has a query of its own and one without: XorPay appends `&openid=` blindly.
    let payer = openid(payments.client(), "http://127.0.0.1:9/pay?step=2").await;
    assert_eq!(
        openid(payments.client(), "http://127.0.0.1:9/pay")
            .await
            .len(),
        payer.len()
    );
    let order = JsapiOrder {
        id: "jsapi-1".into(),
        title: "会员月卡".into(),
        total: price("19.90"),
        openid: payer,
    };
    let pending = pending(&payments, order).await;
    let params = pending.jsapi_params().expect("jsapi parameters").clone();
    assert!(params.package.starts_with("prepay_id="));
    assert_eq!(params.sign_type, "MD5");
    assert!(pending.qr().is_none());

    let aoid = pending.aoid().unwrap().clone();
    pay_and_confirm(&sandbox, &mut receiver, &payments, aoid.as_str()).await;
    let paid = load_paid(&payments, "jsapi-1").await;
    assert_eq!(paid.aoid(), Some(&aoid));
    assert_eq!(paid.paid_price(), price("19.90"));
    assert_eq!(paid.confirmed_by(), ConfirmedBy::Notification);
    assert!(paid.pay_time().is_some());
    assert!(paid.transaction_id().is_some());
    assert_eq!(paid.inner().title, "会员月卡");
}

#[tokio::test]
async fn native_and_alipay_orders_carry_their_qr_texts() {
    let sandbox = sandbox().await;
    let receiver = Receiver::ok().await;
    let natives = service::<NativeOrder>(&sandbox, &receiver);
    let native = pending(&natives, native("native-1", "0.01")).await;
    assert!(
        native
            .qr()
            .unwrap()
            .starts_with("weixin://wxpay/bizpayurl?pr=")
    );
    assert!(native.jsapi_params().is_none());

    let alipays = service::<AlipayOrder>(&sandbox, &receiver);
    let order = AlipayOrder {
        id: "alipay-1".into(),
        title: "Tea".into(),
        total: price("3.50"),
        ttl: 600,
    };
    let alipay = pending(&alipays, order).await;
    assert!(
        alipay
            .qr()
            .unwrap()
            .starts_with("https://qr.alipay.com/bax")
    );
    let lifetime = alipay.expires_at() - alipay.submitted_at();
    assert_eq!(lifetime.whole_seconds(), 600);
    let at_xorpay = sandbox.order(alipay.aoid().unwrap().as_str()).unwrap();
    assert_eq!(at_xorpay.expires_in, 600);
    assert!(
        natives
            .client()
            .qr_image_url("weixin://x?y=1")
            .ends_with("/qr?data=weixin%3A%2F%2Fx%3Fy%3D1")
    );
}

/// The queries follow an order through its life, and settling it "now" (the payer is back on
/// the return page, the notification not acknowledged) records it paid by XorPay's answer.
#[tokio::test]
async fn queries_follow_the_order_and_settling_a_pending_order_records_it_paid() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let payments = service::<NativeOrder>(&sandbox, &receiver);
    let client = payments.client();
    receiver.answer(500);

    let order = pending(&payments, native("query-1", "1.00")).await;
    let aoid = order.aoid().unwrap().clone();
    assert_eq!(client.query(&aoid).await.unwrap(), OrderState::New);
    assert_eq!(client.query2("query-1").await.unwrap(), OrderState::New);
    assert_eq!(
        client.query2("no-such-order").await.unwrap(),
        OrderState::NotExist
    );

    sandbox.pay(aoid.as_str()).await.unwrap();
    // The merchant's endpoint answers 500, so the notification is not acknowledged: `payed`.
    let _ = receiver.next_body().await;
    assert_eq!(client.query(&aoid).await.unwrap(), OrderState::Payed);

    let StoredOrder::Paid(paid) = payments.settle(order).await.unwrap() else {
        panic!("expected the order to settle as paid")
    };
    assert_eq!(paid.confirmed_by(), ConfirmedBy::Query);
    assert_eq!(paid.pay_time(), None);

    // The notification, retried, is acknowledged: the order was paid already.
    receiver.answer(200);
    let body = receiver.next_body().await;
    let confirmed = payments.confirm(&body).await.unwrap();
    assert!(!confirmed.is_new());
    assert_eq!(confirmed.order_id(), "query-1");
    sandbox
        .wait_for(aoid.as_str(), Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await;
    assert_eq!(client.query2("query-1").await.unwrap(), OrderState::Success);
}

#[tokio::test]
async fn an_unpaid_order_settles_as_expired_once_xorpay_says_so() {
    let sandbox = sandbox().await;
    let receiver = Receiver::ok().await;
    let payments = service::<NativeOrder>(&sandbox, &receiver);

    let order = pending(&payments, native("expire-1", "1.00")).await;
    let StoredOrder::Pending(order) = payments.settle(order).await.unwrap() else {
        panic!("a new order stays pending")
    };
    sandbox.advance_clock(Duration::from_secs(7201));
    let StoredOrder::Expired(expired) = payments.settle(order).await.unwrap() else {
        panic!("expected the order to settle as expired")
    };
    assert!(expired.aoid().is_some());
}

#[tokio::test]
async fn a_notification_for_another_order_or_amount_is_refused_and_the_order_kept() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let payments = service::<NativeOrder>(&sandbox, &receiver);
    let first = pending(&payments, native("match-1", "1.00")).await;
    let second = pending(&payments, native("match-2", "1.00")).await;
    sandbox.pay(first.aoid().unwrap().as_str()).await.unwrap();
    let body = receiver.next_body().await;
    let for_first = xorpay::Notification::parse(&body)
        .unwrap()
        .verify(&AppSecret::new(SECRET).unwrap())
        .unwrap();

    // The pure transition refuses it for the other order, and hands the order back.
    let rejected = second.confirm(for_first.clone()).unwrap_err();
    assert!(matches!(rejected.reason(), ConfirmError::Mismatch(_)));
    assert_eq!(rejected.into_order().order_id(), "match-2");
    // A genuine notification for the first order, for another amount: refused, kept.
    let cheaper = support::signed_notification(first.aoid().unwrap().as_str(), "match-1", "0.99");
    let refused = payments.confirm(cheaper.as_bytes()).await;
    assert!(
        matches!(&refused, Err(error @ NotifyError::Mismatch { .. }) if error.status() == 409),
        "{refused:?}"
    );
    assert_eq!(
        payments
            .order("match-1")
            .await
            .unwrap()
            .unwrap()
            .state_name(),
        "pending"
    );
    // The right one still goes through.
    assert!(payments.confirm(&body).await.unwrap().is_new());
    assert_eq!(
        payments
            .order("match-2")
            .await
            .unwrap()
            .unwrap()
            .state_name(),
        "pending"
    );
}

#[tokio::test]
async fn refunds_are_partial_limited_to_the_paid_amount_and_to_fifty() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let payments = paid_native(&sandbox, &mut receiver, "refund-1", "1.00").await;
    let aoid = load_paid(&payments, "refund-1")
        .await
        .aoid()
        .unwrap()
        .to_string();

    let made = refund(&payments, "refund-1", price("0.30")).await.unwrap();
    assert_eq!(made.amount(), price("0.30"));
    let paid = load_paid(&payments, "refund-1").await;
    assert_eq!(paid.refunded(), Some(price("0.30")));
    assert_eq!(paid.refundable(), Some(price("0.70")));

    // More than what is left: refused before anything is sent.
    let error = refund(&payments, "refund-1", price("0.71")).await;
    assert!(
        matches!(error, Err(RefundError::ExceedsRefundable { .. })),
        "{error:?}"
    );
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 1);

    // Up to 50 refunds in all; the 51st is refused before anything is sent.
    for _ in 1..50 {
        refund(&payments, "refund-1", Price::MIN).await.unwrap();
    }
    assert_eq!(load_paid(&payments, "refund-1").await.refund_count(), 50);
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 50);
    let error = refund(&payments, "refund-1", Price::MIN).await;
    assert!(matches!(error, Err(RefundError::TooMany)), "{error:?}");
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 50);
    assert_eq!(
        load_paid(&payments, "refund-1").await.refunded(),
        Some(price("0.79"))
    );
}

#[tokio::test]
async fn xorpay_refusals_are_typed_errors() {
    let sandbox = sandbox().await;
    let receiver = Receiver::ok().await;
    let payments = service::<NativeOrder>(&sandbox, &receiver);

    // The same order id with other parameters, sent from another store (another process):
    // XorPay answers order_exist, and the number is given up.
    let _first = pending(&payments, native("dup-1", "1.00")).await;
    let elsewhere = service::<NativeOrder>(&sandbox, &receiver);
    let refused = elsewhere.checkout(native("dup-1", "2.00")).await;
    assert!(
        matches!(
            &refused,
            Err(error @ CheckoutError::Refused { error: ApiError::OrderExist, .. })
                if !error.is_safe_to_retry()
        ),
        "{refused:?}"
    );
    // In the same store, the number is taken before anything is sent.
    let taken = payments.checkout(native("dup-1", "2.00")).await;
    assert!(
        matches!(taken, Err(CheckoutError::Duplicate(_))),
        "{taken:?}"
    );

    // Another secret: sign_error, and the message does not hold the secret.
    let wrong = service_on::<NativeOrder>(
        &sandbox,
        &receiver,
        "another-secret",
        SqliteStore::in_memory().unwrap().into(),
    );
    let refused = wrong.checkout(native("sign-1", "1.00")).await;
    let Err(
        error @ CheckoutError::Refused {
            error: ApiError::SignError,
            ..
        },
    ) = &refused
    else {
        panic!("expected sign_error, got {refused:?}")
    };
    assert!(!format!("{error} {error:?}").contains("another-secret"));

    // A JSAPI order with an openid XorPay never issued: invalid_openid.
    let jsapi = service::<JsapiOrder>(&sandbox, &receiver);
    let order = JsapiOrder {
        id: "openid-1".into(),
        title: "t".into(),
        total: Price::MIN,
        openid: "o-made-up".into(),
    };
    let refused = jsapi.checkout(order).await;
    assert!(
        matches!(
            refused,
            Err(CheckoutError::Refused {
                error: ApiError::InvalidOpenid,
                ..
            })
        ),
        "{refused:?}"
    );
}

/// Each fault the sandbox injects on a query is its own typed error; a query is read-only,
/// so each is safe to retry. On a create, the service settles the lost answer by asking.
#[tokio::test]
async fn each_route_fault_is_a_typed_error() {
    let sandbox = sandbox().await;
    let receiver = Receiver::ok().await;
    let client = Client::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .base_url(sandbox.base_url())
        .timeout(Duration::from_millis(800))
        .query_retry(RetryPolicy::NONE)
        .build()
        .unwrap();
    let cases = [
        (RouteFault::Http500, "500"),
        (RouteFault::HtmlError, "html"),
        (RouteFault::delay(Duration::from_secs(3)), "delay"),
        (RouteFault::DropConnection, "drop"),
    ];
    for (fault, name) in cases {
        sandbox.inject_route_fault(Route::Query2, fault, FaultTimes::Once);
        let error = client.query2("any").await.unwrap_err();
        match (name, &error) {
            (
                "500",
                ClientError::HttpStatus {
                    status: 500,
                    excerpt,
                    ..
                },
            ) => assert!(excerpt.len() <= 200),
            (
                "html",
                ClientError::HttpStatus {
                    status, excerpt, ..
                },
            ) => {
                assert_eq!(*status, 502);
                assert!(excerpt.contains("<html"), "{excerpt}");
                assert!(excerpt.chars().count() <= 200);
            }
            ("delay", ClientError::Timeout { call: Call::Query2 }) => {}
            (
                "drop",
                ClientError::Connection {
                    call: Call::Query2, ..
                },
            ) => {}
            (name, other) => panic!("fault {name}: unexpected error {other:?}"),
        }
        assert!(error.is_safe_to_retry(), "{name}: {error:?}");
    }

    // The same faults on creating an order, with XorPay unable to answer queries meanwhile:
    // the order is in doubt (safe to check out again), and the repeat resumes it.
    let payments = service::<NativeOrder>(&sandbox, &receiver);
    for (fault, name) in cases {
        let id = format!("fault-{name}");
        sandbox.inject_route_fault(Route::Pay, fault, FaultTimes::Once);
        sandbox.inject_route_fault(Route::Query2, RouteFault::Http500, FaultTimes::Times(3));
        let first = payments.checkout(native(&id, "1.00")).await;
        let Err(error @ CheckoutError::InDoubt(_)) = &first else {
            panic!("{name}: expected the order in doubt, got {first:?}")
        };
        assert!(error.is_safe_to_retry());
        let _resumed = pending(&payments, native(&id, "1.00")).await;
        assert_eq!(
            sandbox
                .orders()
                .iter()
                .filter(|order| order.order_id == id)
                .count(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn queries_are_retried_and_create_and_refund_are_not() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let payments = service::<NativeOrder>(&sandbox, &receiver);
    let client = payments.client();

    // Two failures, then the third try answers.
    let order = pending(&payments, native("retry-1", "1.00")).await;
    let aoid = order.aoid().unwrap().clone();
    sandbox.inject_route_fault(Route::Query, RouteFault::Http500, FaultTimes::Times(2));
    assert_eq!(client.query(&aoid).await.unwrap(), OrderState::New);
    sandbox.inject_route_fault(
        Route::Query2,
        RouteFault::DropConnection,
        FaultTimes::Times(2),
    );
    assert_eq!(client.query2("retry-1").await.unwrap(), OrderState::New);
    // Three failures exhaust three tries.
    sandbox.inject_route_fault(Route::Query, RouteFault::Http500, FaultTimes::Times(3));
    assert!(matches!(
        client.query(&aoid).await,
        Err(ClientError::HttpStatus { status: 500, .. })
    ));

    // One failure on create, and no query gets through: not retried, so no order exists at
    // XorPay.
    sandbox.inject_route_fault(Route::Pay, RouteFault::Http500, FaultTimes::Once);
    sandbox.inject_route_fault(Route::Query2, RouteFault::Http500, FaultTimes::Times(3));
    assert!(payments.checkout(native("retry-2", "1.00")).await.is_err());
    assert!(sandbox.order_by_order_id("retry-2").is_none());

    // One failure on refund: not retried, so nothing was refunded; a 500 may still have
    // come after XorPay acted, so the refund stays in doubt.
    let payments = paid_native(&sandbox, &mut receiver, "retry-3", "1.00").await;
    sandbox.inject_route_fault(Route::Refund, RouteFault::Http500, FaultTimes::Once);
    let outcome = refund(&payments, "retry-3", Price::MIN).await;
    assert!(
        matches!(
            outcome,
            Err(RefundError::InDoubt {
                error: Some(ClientError::HttpStatus { status: 500, .. }),
                ..
            })
        ),
        "{outcome:?}"
    );
    let paid = load_paid(&payments, "retry-3").await;
    let at_xorpay = sandbox.order(paid.aoid().unwrap().as_str()).unwrap();
    assert_eq!(at_xorpay.refunds.len(), 0);
    assert_eq!(paid.refunded(), None);
    assert_eq!(paid.refund_in_doubt().map(|r| r.amount()), Some(Price::MIN));
}

#[tokio::test]
async fn barcode_and_cashier_orders() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let scans = service::<Scan>(&sandbox, &receiver);
    let scan = Scan {
        id: "scan-1".into(),
        title: "门店订单".into(),
        total: price("1.00"),
        code: "134657556554411111".into(),
    };
    let order = pending(&scans, scan).await;
    assert!(matches!(order.payment(), PaymentInfo::Barcode(_)));
    let body = receiver.next_body().await;
    assert!(scans.confirm(&body).await.unwrap().is_new());
    assert_eq!(
        load_paid(&scans, "scan-1").await.paid_price(),
        price("1.00")
    );

    let declined = Scan {
        id: "scan-2".into(),
        title: "t".into(),
        total: price("1.00"),
        code: "12345".into(),
    };
    let refused = scans.checkout(declined).await;
    assert!(
        matches!(
            refused,
            Err(CheckoutError::Refused {
                error: ApiError::BarcodeFailed { .. },
                ..
            })
        ),
        "{refused:?}"
    );

    // The cashier is a page for the browser: the signed URL opens XorPay's payment page.
    let cashiers = service::<CashierOrder>(&sandbox, &receiver);
    let order = CashierOrder {
        id: "cashier-1".into(),
        title: "门店收银".into(),
        total: price("8.88"),
    };
    let order = pending(&cashiers, order).await;
    let page = order.cashier().expect("the cashier page");
    assert!(page.form_html.contains("<form method=\"post\""));
    assert!(order.aoid().is_none());
    let html = reqwest::get(&page.url).await.unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("8.88"));
    // Once paid, the notification names the aoid; the service pins it to this order with a
    // query.
    let aoid = sandbox.order_by_order_id("cashier-1").unwrap().aoid;
    sandbox.pay(&aoid).await.unwrap();
    let body = receiver.next_body().await;
    assert!(cashiers.confirm(&body).await.unwrap().is_new());
    assert_eq!(
        load_paid(&cashiers, "cashier-1")
            .await
            .aoid()
            .unwrap()
            .as_str(),
        aoid
    );
}

#[tokio::test]
async fn every_call_is_traced_without_the_secret_or_a_signature() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let signature = native("traced-1", "1.00")
        .with_notify_url(&receiver.url)
        .signature(&AppSecret::new(SECRET).unwrap())
        .unwrap();
    let payments = paid_native(&sandbox, &mut receiver, "traced-1", "1.00").await;
    payments.client().query2("traced-1").await.unwrap();
    refund(&payments, "traced-1", Price::MIN).await.unwrap();
    sandbox.inject_route_fault(Route::Pay, RouteFault::Http500, FaultTimes::Once);
    let _ = payments.checkout(native("traced-2", "1.00")).await;

    let log = captured.text();
    for span in [
        "xorpay.create",
        "xorpay.query2",
        "xorpay.refund",
        "order_id=\"traced-1\"",
        "payment recorded",
    ] {
        assert!(log.contains(span), "no {span} in:\n{log}");
    }
    assert!(log.contains("order not created"), "{log}");
    assert!(!log.contains(SECRET), "the secret leaked:\n{log}");
    assert!(
        !log.contains(signature.as_str()),
        "a signature leaked:\n{log}"
    );
    assert!(!log.contains("sign="), "a request body leaked:\n{log}");
    // And the service's and client's Debug redact the secret too.
    assert!(!format!("{payments:?} {:?}", payments.client()).contains(SECRET));
}

#[tokio::test]
async fn a_refund_without_a_clear_answer_is_held_in_doubt() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::ok().await;
    let payments = paid_native(&sandbox, &mut receiver, "doubt-1", "1.00").await;

    // XorPay answers too late: the refund may have happened.
    sandbox.inject_route_fault(
        Route::Refund,
        RouteFault::delay(Duration::from_secs(2)),
        FaultTimes::Once,
    );
    let outcome = refund(&payments, "doubt-1", price("0.40")).await;
    let Err(RefundError::InDoubt {
        error: Some(error), ..
    }) = outcome
    else {
        panic!("expected the refund in doubt, got {outcome:?}")
    };
    assert!(matches!(error, ClientError::Timeout { call: Call::Refund }));
    let paid = load_paid(&payments, "doubt-1").await;
    assert_eq!(
        paid.refund_in_doubt().map(|r| r.amount()),
        Some(price("0.40"))
    );
    assert_eq!(paid.refundable(), Some(price("0.60")));
    // Nothing more is sent until someone resolves it.
    let refused = refund(&payments, "doubt-1", Price::MIN).await;
    assert!(
        matches!(refused, Err(RefundError::AnotherInDoubt { .. })),
        "{refused:?}"
    );

    // Resolve it by what XorPay's side (the dashboard; here the sandbox's view) shows. The
    // request reached XorPay late, after the client hung up: it was made then. Too early,
    // while the request may still be under way, resolving is refused, and the dashboard
    // would still have shown nothing.
    let key = paid.refund_in_doubt().unwrap().key().to_owned();
    let early = payments.resolve_refund(&paid, &key, false).await;
    assert!(
        matches!(early, Err(RefundError::TooEarly { .. })),
        "{early:?}"
    );
    let aoid = paid.aoid().unwrap().as_str().to_owned();
    assert!(sandbox.order(&aoid).unwrap().refunds.is_empty());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let made = !sandbox.order(&aoid).unwrap().refunds.is_empty();
    assert!(made);
    // The window is 5 minutes by default: XorPay may still be making a refund until then.
    payments.clock().advance(xorpay::time::Duration::minutes(4));
    let early = payments.resolve_refund(&paid, &key, made).await;
    assert!(
        matches!(early, Err(RefundError::TooEarly { .. })),
        "{early:?}"
    );
    payments.clock().advance(xorpay::time::Duration::minutes(1));
    let resolved = payments.resolve_refund(&paid, &key, made).await.unwrap();
    assert_eq!(resolved.amount(), price("0.40"));
    let paid = load_paid(&payments, "doubt-1").await;
    assert_eq!(paid.refund_in_doubt(), None);
    assert_eq!(paid.refunded(), Some(price("0.40")));
    // The rest can now be refunded, and the totals agree with XorPay's.
    refund(&payments, "doubt-1", price("0.60")).await.unwrap();
    assert_eq!(load_paid(&payments, "doubt-1").await.refundable(), None);
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 2);
}

#[tokio::test]
async fn non_json_answers_to_queries_are_retried_and_no_retry_policy_means_one_try() {
    let sandbox = sandbox().await;
    let receiver = Receiver::ok().await;
    let payments = service::<NativeOrder>(&sandbox, &receiver);
    let order = pending(&payments, native("html-1", "1.00")).await;
    let aoid = order.aoid().unwrap().clone();
    sandbox.inject_route_fault(Route::Query, RouteFault::HtmlError, FaultTimes::Times(2));
    assert_eq!(
        payments.client().query(&aoid).await.unwrap(),
        OrderState::New
    );

    let once = Client::builder()
        .aid(sandbox.aid())
        .secret(SECRET)
        .base_url(sandbox.base_url())
        .query_retry(RetryPolicy::NONE)
        .build()
        .unwrap();
    sandbox.inject_route_fault(Route::Query, RouteFault::Http500, FaultTimes::Once);
    assert!(matches!(
        once.query(&aoid).await,
        Err(ClientError::HttpStatus { status: 500, .. })
    ));
    // The fault was used up by the single try: the next one answers.
    assert_eq!(once.query(&aoid).await.unwrap(), OrderState::New);
}

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let build = |base: &str| {
        Client::builder()
            .aid("1000")
            .secret(SECRET)
            .base_url(base)
            .build()
            .map(drop)
    };
    assert!(build("https://xorpay.com").is_ok());
    assert!(build("http://127.0.0.1:9").is_ok());
    for bad in [
        "http://xorpay.com",
        "https://xorpay.com?x=1",
        "https://user:pw@xorpay.com",
    ] {
        assert_eq!(build(bad).unwrap_err().setting(), "base_url", "{bad}");
    }
}
