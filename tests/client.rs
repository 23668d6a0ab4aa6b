//! The client and the typestate orders against the local XorPay (xorpay-sandbox), in
//! process, over real HTTP: the whole JSAPI flow, every kind of order, queries, refunds and
//! their limits, and each fault the sandbox can inject.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::SECRET;
use support::receiver::Receiver;
use xorpay::client::{Call, Client, ClientError, RetryPolicy, openid_from_callback};
use xorpay::order::{ConfirmError, ConfirmedBy, Order, Paid, RefundLimit, Settled, StoredOrder};
use xorpay::prelude::*;
use xorpay::response::PaymentInfo;
use xorpay::service::Clock;
use xorpay::{Aid, ApiError, AppSecret, OrderState, Price};
use xorpay::{Checkout, Payments, RefundError, RefundOutcome, SqliteStore};
use xorpay_sandbox::{FaultTimes, Route, RouteFault, Sandbox};

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

fn client(sandbox: &Sandbox, notify_url: &str) -> Client {
    Client::builder()
        .aid(Aid::new(sandbox.aid()).unwrap())
        .secret(AppSecret::new(SECRET).unwrap())
        .notify_url(notify_url)
        .base_url(sandbox.base_url())
        .timeout(Duration::from_millis(800))
        .query_retry(RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(40),
        })
        .build()
        .unwrap()
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

#[derive(XorPayOrder, Debug, Clone)]
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

#[derive(XorPayOrder, Debug)]
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

#[derive(XorPayOrder, Debug)]
#[xorpay(kind = cashier, notify_url = from_client)]
struct CashierOrder {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn native_order(id: &str, total: &str) -> NativeOrder {
    NativeOrder {
        id: id.into(),
        title: "咖啡".into(),
        total: price(total),
    }
}

fn native(id: &str, total: &str) -> Order<NativeOrder> {
    Order::new(native_order(id, total)).unwrap()
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

/// A paid order: submitted, paid in the sandbox, confirmed by its verified notification.
async fn paid_native(
    sandbox: &Sandbox,
    client: &Client,
    receiver: &mut Receiver,
    id: &str,
    total: &str,
) -> Order<NativeOrder, xorpay::order::Paid> {
    let pending = client.submit(native(id, total)).await.unwrap();
    let aoid = pending.aoid().unwrap().to_string();
    sandbox.pay(&aoid).await.unwrap();
    let paid = pending
        .confirm(receiver.next_verified(SECRET).await)
        .unwrap();
    // XorPay refunds only once the notification is acknowledged (`success`).
    sandbox
        .wait_for(&aoid, Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await;
    paid
}

/// A paid native order in a lifecycle service (store in memory) against the sandbox, so that
/// it is refunded the safe way: recorded in doubt before it is sent.
async fn stored_paid_native(
    sandbox: &Sandbox,
    _client: &Client,
    receiver: &mut Receiver,
    id: &str,
    total: &str,
) -> Payments<NativeOrder, SqliteStore> {
    let payments: Payments<NativeOrder, SqliteStore> = Payments::builder()
        .aid(Aid::new(sandbox.aid()).unwrap())
        .secret(AppSecret::new(SECRET).unwrap())
        .notify_url(receiver.url.as_str())
        .store(SqliteStore::in_memory().unwrap())
        .base_url(sandbox.base_url())
        .timeout(Duration::from_millis(800))
        .clock(Clock::manual(pending_now()))
        .build()
        .unwrap();
    let Checkout::Pending(pending) = payments.checkout(native_order(id, total)).await.unwrap()
    else {
        panic!("expected the order pending")
    };
    let aoid = pending.aoid().unwrap().to_string();
    sandbox.pay(&aoid).await.unwrap();
    let body = receiver.next_body().await;
    assert!(payments.confirm(&body).await.unwrap().is_new());
    // XorPay refunds only once the notification is acknowledged (`success`).
    sandbox
        .wait_for(&aoid, Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await;
    payments
}

async fn refund(
    payments: &Payments<NativeOrder, SqliteStore>,
    id: &str,
    amount: Price,
) -> Result<RefundOutcome, RefundError> {
    let key = uuid::Uuid::new_v4().simple().to_string();
    payments.refund(id, amount, &key).await
}

async fn load_paid(
    payments: &Payments<NativeOrder, SqliteStore>,
    id: &str,
) -> Order<NativeOrder, Paid> {
    match payments.order(id).await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!("expected {id} paid, found {other:?}"),
    }
}

#[tokio::test]
async fn the_whole_jsapi_flow_ends_in_a_paid_order() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    // The callback has a query of its own and one without: XorPay appends `&openid=` blindly.
    let payer = openid(&client, "http://127.0.0.1:9/pay?step=2").await;
    assert_eq!(
        openid(&client, "http://127.0.0.1:9/pay").await.len(),
        payer.len()
    );

    let order = Order::new(JsapiOrder {
        id: "jsapi-1".into(),
        title: "会员月卡".into(),
        total: price("19.90"),
        openid: payer,
    })
    .unwrap();
    let pending = client.submit(order).await.unwrap();
    let params = pending.jsapi_params().expect("jsapi parameters").clone();
    assert!(params.package.starts_with("prepay_id="));
    assert_eq!(params.sign_type, "MD5");
    assert!(pending.qr().is_none());

    let aoid = pending.aoid().unwrap().clone();
    sandbox.pay(aoid.as_str()).await.unwrap();
    let notification = receiver.next_verified(SECRET).await;
    let paid = pending.confirm(notification).unwrap();

    assert_eq!(paid.aoid(), Some(&aoid));
    assert_eq!(paid.paid_price(), price("19.90"));
    assert_eq!(paid.confirmed_by(), ConfirmedBy::Notification);
    assert!(paid.pay_time().is_some());
    assert!(paid.transaction_id().is_some());
    assert_eq!(paid.inner().title, "会员月卡");
    // The acknowledgement (HTTP 200) turns the order `success` at XorPay.
    let done = sandbox
        .wait_for(aoid.as_str(), Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(done.state, xorpay_sandbox::OrderState::Success);
}

#[tokio::test]
async fn native_and_alipay_orders_carry_their_qr_texts() {
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    let native = client.submit(native("native-1", "0.01")).await.unwrap();
    assert!(
        native
            .qr()
            .unwrap()
            .starts_with("weixin://wxpay/bizpayurl?pr=")
    );
    assert!(native.jsapi_params().is_none());

    let alipay = Order::new(AlipayOrder {
        id: "alipay-1".into(),
        title: "Tea".into(),
        total: price("3.50"),
        ttl: 600,
    })
    .unwrap();
    let alipay = client.submit(alipay).await.unwrap();
    assert!(
        alipay
            .qr()
            .unwrap()
            .starts_with("https://qr.alipay.com/bax")
    );
    let lifetime = alipay.expires_at() - alipay.submitted_at();
    assert_eq!(lifetime.whole_seconds(), 600);
    assert_eq!(
        sandbox
            .order(alipay.aoid().unwrap().as_str())
            .unwrap()
            .expires_in,
        600
    );
    assert!(
        client
            .qr_image_url("weixin://x?y=1")
            .ends_with("/qr?data=weixin%3A%2F%2Fx%3Fy%3D1")
    );
}

#[tokio::test]
async fn query_and_query2_follow_the_order_through_its_life() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    receiver.answer(500);

    let pending = client.submit(native("query-1", "1.00")).await.unwrap();
    let aoid = pending.aoid().unwrap().clone();
    assert_eq!(client.query(&aoid).await.unwrap(), OrderState::New);
    assert_eq!(client.query2("query-1").await.unwrap(), OrderState::New);
    assert_eq!(
        client.query2("no-such-order").await.unwrap(),
        OrderState::NotExist
    );

    sandbox.pay(aoid.as_str()).await.unwrap();
    // The merchant answers 500, so the notification is not acknowledged: `payed`.
    let _ = receiver.next_verified(SECRET).await;
    assert_eq!(client.query(&aoid).await.unwrap(), OrderState::Payed);

    // Reconciliation: the notification never got through, a query settles the order.
    let Settled::Paid(paid) = client.settle(pending).await.unwrap() else {
        panic!("expected the order to settle as paid")
    };
    assert_eq!(paid.confirmed_by(), ConfirmedBy::Query);
    assert_eq!(paid.pay_time(), None);

    receiver.answer(200);
    let _ = receiver.next_verified(SECRET).await;
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
    let receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    let pending = client.submit(native("expire-1", "1.00")).await.unwrap();
    let Settled::Unchanged(pending, state) = client.settle(pending).await.unwrap() else {
        panic!("a new order stays pending")
    };
    assert_eq!(state, OrderState::New);
    // Locally, too early to expire.
    let xorpay::order::Expiry::NotYet(pending) = pending.expire(pending_now()) else {
        panic!("expired before its time")
    };

    sandbox.advance_clock(Duration::from_secs(7201));
    let Settled::Expired(expired) = client.settle(pending).await.unwrap() else {
        panic!("expected the order to settle as expired")
    };
    assert!(expired.aoid().is_some());
}

fn pending_now() -> xorpay::time::OffsetDateTime {
    xorpay::time::OffsetDateTime::now_utc()
}

#[tokio::test]
async fn a_notification_for_another_order_or_amount_is_refused_and_the_order_kept() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    let first = client.submit(native("match-1", "1.00")).await.unwrap();
    let second = client.submit(native("match-2", "1.00")).await.unwrap();
    sandbox.pay(first.aoid().unwrap().as_str()).await.unwrap();
    let for_first = receiver.next_verified(SECRET).await;

    let rejected = second.confirm(for_first.clone()).unwrap_err();
    assert!(matches!(rejected.reason(), ConfirmError::Mismatch(_)));
    let second = rejected.into_order();
    assert_eq!(second.order_id(), "match-2");
    // The right one still goes through.
    assert!(first.confirm(for_first).is_ok());
    assert_eq!(second.state_name(), "pending");
}

#[tokio::test]
async fn refunds_are_partial_limited_to_the_paid_amount_and_to_fifty() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    let store = stored_paid_native(&sandbox, &client, &mut receiver, "refund-1", "1.00").await;
    let aoid = load_paid(&store, "refund-1")
        .await
        .aoid()
        .unwrap()
        .to_string();

    let made = refund(&store, "refund-1", price("0.30")).await;
    assert!(matches!(made, Ok(RefundOutcome::Made(_))), "{made:?}");
    let paid = load_paid(&store, "refund-1").await;
    assert_eq!(paid.refunded(), Some(price("0.30")));
    assert_eq!(paid.refundable(), Some(price("0.70")));

    // More than what is left: refused before anything is sent.
    let error = refund(&store, "refund-1", price("0.71")).await;
    assert!(matches!(
        error,
        Err(RefundError::Limit(RefundLimit::ExceedsPaid { .. }))
    ));
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 1);

    // Up to 50 refunds in all; the 51st is refused before anything is sent.
    for _ in 1..50 {
        refund(&store, "refund-1", Price::MIN).await.unwrap();
    }
    assert_eq!(load_paid(&store, "refund-1").await.refund_count(), 50);
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 50);
    let error = refund(&store, "refund-1", Price::MIN).await;
    assert!(matches!(
        error,
        Err(RefundError::Limit(RefundLimit::TooMany))
    ));
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 50);
    assert_eq!(
        load_paid(&store, "refund-1").await.refunded(),
        Some(price("0.79"))
    );
}

#[tokio::test]
async fn a_refund_not_recorded_in_doubt_first_is_never_sent() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    let mut paid = paid_native(&sandbox, &client, &mut receiver, "unsaved-1", "1.00").await;
    // Begun but never saved: a crash now, or a concurrent copy, would lose it.
    let ticket = paid
        .begin_refund("k", price("0.50"), pending_now())
        .unwrap();
    let error = client.send_refund(&paid, ticket).await.unwrap_err();
    assert!(matches!(
        error,
        ClientError::RefundLimit(RefundLimit::NotRecorded)
    ));
    let aoid = paid.aoid().unwrap().to_string();
    assert!(sandbox.order(&aoid).unwrap().refunds.is_empty());
    assert_eq!(paid.refunded(), None);
}

#[tokio::test]
async fn xorpay_refusals_are_typed_errors() {
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    // The same order id with other parameters: order_exist, and the order comes back.
    let _first = client.submit(native("dup-1", "1.00")).await.unwrap();
    let failed = client.submit(native("dup-1", "2.00")).await.unwrap_err();
    assert!(matches!(
        failed.error(),
        ClientError::Api(ApiError::OrderExist)
    ));
    assert_eq!(failed.into_order().price(), price("2.00"));

    // Another secret: sign_error.
    let wrong = Client::builder()
        .aid(Aid::new(sandbox.aid()).unwrap())
        .secret(AppSecret::new("another-secret").unwrap())
        .notify_url(receiver.url.as_str())
        .base_url(sandbox.base_url())
        .build()
        .unwrap();
    let failed = wrong.submit(native("sign-1", "1.00")).await.unwrap_err();
    assert!(matches!(
        failed.error(),
        ClientError::Api(ApiError::SignError)
    ));
    assert!(!failed.to_string().contains("another-secret"));

    // A JSAPI order with an openid XorPay never issued: invalid_openid.
    let order = Order::new(JsapiOrder {
        id: "openid-1".into(),
        title: "t".into(),
        total: Price::MIN,
        openid: "o-made-up".into(),
    })
    .unwrap();
    let failed = client.submit(order).await.unwrap_err();
    assert!(matches!(
        failed.error(),
        ClientError::Api(ApiError::InvalidOpenid)
    ));
}

#[tokio::test]
async fn each_route_fault_is_a_typed_error_and_the_order_comes_back() {
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    let cases = [
        (RouteFault::Http500, "500"),
        (RouteFault::HtmlError, "html"),
        (RouteFault::delay(Duration::from_secs(3)), "delay"),
        (RouteFault::DropConnection, "drop"),
    ];
    for (fault, name) in cases {
        sandbox.inject_route_fault(Route::Pay, fault, FaultTimes::Once);
        let failed = client
            .submit(native(&format!("fault-{name}"), "1.00"))
            .await
            .unwrap_err();
        match (name, failed.error()) {
            (
                "500",
                ClientError::HttpStatus {
                    status: 500,
                    excerpt,
                    ..
                },
            ) => {
                assert!(excerpt.len() <= 200);
            }
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
            ("delay", ClientError::Timeout { call: Call::Pay }) => {}
            (
                "drop",
                ClientError::Connection {
                    call: Call::Pay, ..
                },
            ) => {}
            (name, other) => panic!("fault {name}: unexpected error {other:?}"),
        }
        // The request may have reached XorPay: not safe to repeat blindly (query first).
        assert!(failed.error().outcome_unknown(), "{name}");
        assert!(!failed.error().is_transient(), "{name}");
        // Nothing is lost: the order comes back and can be sent again.
        let order = failed.into_order();
        assert_eq!(order.state_name(), "created");
        let _resent = client.submit(order).await.unwrap();
    }
}

#[tokio::test]
async fn queries_are_retried_and_create_and_refund_are_not() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    // Two failures, then the third try answers.
    let pending = client.submit(native("retry-1", "1.00")).await.unwrap();
    let aoid = pending.aoid().unwrap().clone();
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

    // One failure on create: not retried, so no order exists at XorPay.
    sandbox.inject_route_fault(Route::Pay, RouteFault::Http500, FaultTimes::Once);
    assert!(client.submit(native("retry-2", "1.00")).await.is_err());
    assert!(sandbox.order_by_order_id("retry-2").is_none());

    // One failure on refund: not retried, so nothing was refunded; a 500 may still have
    // come after XorPay acted, so the refund stays in doubt.
    let store = stored_paid_native(&sandbox, &client, &mut receiver, "retry-3", "1.00").await;
    sandbox.inject_route_fault(Route::Refund, RouteFault::Http500, FaultTimes::Once);
    let outcome = refund(&store, "retry-3", Price::MIN).await;
    assert!(
        matches!(
            outcome,
            Ok(RefundOutcome::InDoubt(
                _,
                Some(ClientError::HttpStatus { status: 500, .. })
            ))
        ),
        "{outcome:?}"
    );
    let paid = load_paid(&store, "retry-3").await;
    assert_eq!(
        sandbox
            .order(paid.aoid().unwrap().as_str())
            .unwrap()
            .refunds
            .len(),
        0
    );
    assert_eq!(paid.refunded(), None);
    assert_eq!(paid.refund_in_doubt().map(|r| r.amount()), Some(Price::MIN));
}

#[tokio::test]
async fn barcode_and_cashier_orders() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);

    let scan = Order::new(Scan {
        id: "scan-1".into(),
        title: "门店订单".into(),
        total: price("1.00"),
        code: "134657556554411111".into(),
    })
    .unwrap();
    let pending = client.barcode_pay(scan).await.unwrap();
    assert!(matches!(pending.payment(), PaymentInfo::Barcode(_)));
    let paid = pending
        .confirm(receiver.next_verified(SECRET).await)
        .unwrap();
    assert_eq!(paid.paid_price(), price("1.00"));

    let declined = Order::new(Scan {
        id: "scan-2".into(),
        title: "t".into(),
        total: price("1.00"),
        code: "12345".into(),
    })
    .unwrap();
    let failed = client.barcode_pay(declined).await.unwrap_err();
    assert!(matches!(
        failed.error(),
        ClientError::Api(ApiError::BarcodeFailed { .. })
    ));

    // The cashier is a page for the browser: the signed URL opens XorPay's payment page.
    let order = Order::new(CashierOrder {
        id: "cashier-1".into(),
        title: "门店收银".into(),
        total: price("8.88"),
    })
    .unwrap();
    let (pending, page) = client.cashier(order).unwrap();
    assert!(page.form_html.contains("<form method=\"post\""));
    assert!(pending.aoid().is_none());
    let html = reqwest::get(&page.url).await.unwrap();
    assert_eq!(html.status(), 200);
    assert!(html.text().await.unwrap().contains("8.88"));
    // Once paid, the notification names the aoid; a query pins it to this order.
    let aoid = sandbox.order_by_order_id("cashier-1").unwrap().aoid;
    sandbox.pay(&aoid).await.unwrap();
    let notification = receiver.next_verified(SECRET).await;
    let rejected = pending.confirm(notification.clone()).unwrap_err();
    assert_eq!(rejected.reason(), &ConfirmError::AoidUnknown);
    let paid = client
        .confirm(rejected.into_order(), notification)
        .await
        .unwrap();
    assert_eq!(paid.aoid().unwrap().as_str(), aoid);
}

#[tokio::test]
async fn orders_survive_storage_in_every_state() {
    use xorpay::order::StoredOrder;
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    let payer = openid(&client, "http://127.0.0.1:9/pay?x=1").await;
    let created = Order::new(JsapiOrder {
        id: "store-1".into(),
        title: "t".into(),
        total: price("2.00"),
        openid: payer,
    })
    .unwrap();
    let saved = serde_json::to_string(&created).unwrap();
    let StoredOrder::Created(created) =
        serde_json::from_str::<StoredOrder<JsapiOrder>>(&saved).unwrap()
    else {
        panic!("expected a created order")
    };
    let pending = client.submit(created).await.unwrap();
    let saved = serde_json::to_string(&pending).unwrap();
    let StoredOrder::Pending(pending) =
        serde_json::from_str::<StoredOrder<JsapiOrder>>(&saved).unwrap()
    else {
        panic!("expected a pending order")
    };
    assert!(pending.jsapi_params().is_some());
    sandbox.pay(pending.aoid().unwrap().as_str()).await.unwrap();
    let paid = pending
        .confirm(receiver.next_verified(SECRET).await)
        .unwrap();
    let saved = serde_json::to_value(&paid).unwrap();
    let StoredOrder::Paid(loaded) =
        serde_json::from_value::<StoredOrder<JsapiOrder>>(saved.clone()).unwrap()
    else {
        panic!("expected a paid order")
    };
    assert_eq!(loaded.aoid(), paid.aoid());
    assert_eq!(loaded.pay_time(), paid.pay_time());

    // A row edited to claim another price than its struct's is refused.
    let mut forged = saved;
    forged["order"]["total"] = serde_json::json!("0.01");
    assert!(serde_json::from_value::<StoredOrder<JsapiOrder>>(forged).is_err());
}

/// Collects everything a `fmt` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    let order = NativeOrder {
        id: "traced-1".into(),
        title: "咖啡".into(),
        total: price("1.00"),
    };
    let signature = order
        .with_notify_url(&receiver.url)
        .signature(&AppSecret::new(SECRET).unwrap())
        .unwrap();
    let store = stored_paid_native(&sandbox, &client, &mut receiver, "traced-1", "1.00").await;
    client.query2("traced-1").await.unwrap();
    refund(&store, "traced-1", Price::MIN).await.unwrap();
    sandbox.inject_route_fault(Route::Pay, RouteFault::Http500, FaultTimes::Once);
    let _ = client.submit(native("traced-2", "1.00")).await;

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for span in [
        "xorpay.create",
        "xorpay.query2",
        "xorpay.refund",
        "order_id=\"traced-1\"",
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
    // And the client's Debug redacts the secret too.
    assert!(!format!("{client:?}").contains(SECRET));
}

#[tokio::test]
async fn a_refund_without_a_clear_answer_is_held_in_doubt() {
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    let store = stored_paid_native(&sandbox, &client, &mut receiver, "doubt-1", "1.00").await;

    // XorPay answers too late: the refund may have happened.
    sandbox.inject_route_fault(
        Route::Refund,
        RouteFault::delay(Duration::from_secs(2)),
        FaultTimes::Once,
    );
    let outcome = refund(&store, "doubt-1", price("0.40")).await;
    let Ok(RefundOutcome::InDoubt(_, Some(error))) = outcome else {
        panic!("expected the refund in doubt, got {outcome:?}")
    };
    assert!(matches!(error, ClientError::Timeout { call: Call::Refund }));
    let paid = load_paid(&store, "doubt-1").await;
    assert_eq!(
        paid.refund_in_doubt().map(|r| r.amount()),
        Some(price("0.40"))
    );
    assert_eq!(paid.refundable(), Some(price("0.60")));
    // Nothing more is sent until someone resolves it.
    let refused = refund(&store, "doubt-1", Price::MIN).await;
    assert!(matches!(
        refused,
        Err(RefundError::Limit(RefundLimit::InDoubt { .. }))
    ));

    // Resolve it by what XorPay's side (the dashboard; here the sandbox's view) shows. The
    // request reached XorPay late, after the client hung up: it was made then. Too early,
    // while the request may still be under way, resolving is refused, and the dashboard
    // would still have shown nothing.
    let key = paid.refund_in_doubt().unwrap().key().to_owned();
    let early = store.resolve_refund("doubt-1", &key, false).await;
    assert!(
        matches!(early, Err(xorpay::ResolveError::TooEarly { .. })),
        "{early:?}"
    );
    assert!(
        sandbox
            .order(paid.aoid().unwrap().as_str())
            .unwrap()
            .refunds
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let made = !sandbox
        .order(paid.aoid().unwrap().as_str())
        .unwrap()
        .refunds
        .is_empty();
    assert!(made);
    // The window is 5 minutes by default: XorPay may still be making a refund until then.
    store.clock().advance(xorpay::time::Duration::minutes(4));
    let early = store.resolve_refund("doubt-1", &key, made).await;
    assert!(
        matches!(early, Err(xorpay::ResolveError::TooEarly { .. })),
        "{early:?}"
    );
    store.clock().advance(xorpay::time::Duration::minutes(1));
    store.resolve_refund("doubt-1", &key, made).await.unwrap();
    let paid = load_paid(&store, "doubt-1").await;
    assert_eq!(paid.refund_in_doubt(), None);
    assert_eq!(paid.refunded(), Some(price("0.40")));
    // The rest can now be refunded, and the totals agree with XorPay's.
    refund(&store, "doubt-1", price("0.60")).await.unwrap();
    assert_eq!(load_paid(&store, "doubt-1").await.refundable(), None);
    assert_eq!(
        sandbox
            .order(paid.aoid().unwrap().as_str())
            .unwrap()
            .refunds
            .len(),
        2
    );
}

#[tokio::test]
async fn non_json_answers_to_queries_are_retried_and_no_retry_policy_means_one_try() {
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    let client = client(&sandbox, &receiver.url);
    let pending = client.submit(native("html-1", "1.00")).await.unwrap();
    let aoid = pending.aoid().unwrap().clone();
    sandbox.inject_route_fault(Route::Query, RouteFault::HtmlError, FaultTimes::Times(2));
    assert_eq!(client.query(&aoid).await.unwrap(), OrderState::New);

    let once = Client::builder()
        .aid(Aid::new(sandbox.aid()).unwrap())
        .secret(AppSecret::new(SECRET).unwrap())
        .notify_url(receiver.url.as_str())
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
            .aid(Aid::new("1000").unwrap())
            .secret(AppSecret::new(SECRET).unwrap())
            .notify_url("https://shop.example.com/n")
            .base_url(base)
            .build()
            .map(drop)
    };
    assert!(build("https://xorpay.com").is_ok());
    assert!(build("http://127.0.0.1:9").is_ok());
    assert!(matches!(
        build("http://xorpay.com"),
        Err(ClientError::Config(_))
    ));
    assert!(matches!(
        build("https://xorpay.com?x=1"),
        Err(ClientError::Config(_))
    ));
    assert!(matches!(
        build("https://user:pw@xorpay.com"),
        Err(ClientError::Config(_))
    ));
}
