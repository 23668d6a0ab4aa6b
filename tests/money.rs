//! Issue 9: the ways the first version could lose money, each driven through the lifecycle
//! service as a merchant's code meets it. Every test here failed on the first version (see
//! the issue's closing note); the exact compare-and-set on refunds is
//! `store_contract::a_copy_changed_twice_since_its_load_cannot_overwrite_a_newer_save`.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::receiver::scripted_xorpay;
use support::world::World;
use support::{Captured, SECRET, tempdir};
use xorpay::prelude::*;
use xorpay::service::Clock;
use xorpay::{CheckoutError, Notification, NotifyError, OrderError, RefundError};
use xorpay_sandbox::{FaultTimes, Route, RouteFault};

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

fn secret() -> AppSecret {
    AppSecret::new(SECRET).unwrap()
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = native, notify_url = from_client)]
struct Coffee {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

fn coffee(id: &str, total: &str) -> Coffee {
    Coffee {
        id: id.into(),
        title: "咖啡".into(),
        total: price(total),
    }
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
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

/// Point 3. A barcode payment charges at once; its answer was lost, XorPay could not be asked
/// (query2 failing too), and every notification failed. Reconciliation must find the charge
/// of an order still `created`.
#[tokio::test]
async fn reconciliation_records_a_charged_barcode_order_whose_answer_was_lost() {
    let world = World::<Scan>::new().await;
    world.notifications_answer(500);
    world
        .sandbox
        .inject_route_fault(Route::Barcode, RouteFault::AnswerLost, FaultTimes::Once);
    world
        .sandbox
        .inject_route_fault(Route::Query2, RouteFault::Http500, FaultTimes::Always);
    let scan = Scan {
        id: "scan-1".into(),
        title: "门店订单".into(),
        total: price("1.00"),
        code: "134657556554411111".into(),
    };
    let checkout = world.payments().checkout(scan).await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "{checkout:?}"
    );
    assert_eq!(
        world.stored("scan-1").await.unwrap().state_name(),
        "created"
    );

    world.sandbox.clear_route_faults();
    world.clock.advance(xorpay::time::Duration::minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.paid.len(), 1, "{report:?}");
    assert_eq!(
        world.stored("scan-1").await.unwrap().state_name(),
        "paid",
        "the customer was charged, the store still says created"
    );
}

/// Point 3, an order created at XorPay whose answer was lost and that could not be settled
/// at once: reconciliation recovers it (query2, then the identical re-submission), so the
/// payer can still pay.
#[tokio::test]
async fn reconciliation_recovers_an_order_created_at_xorpay_whose_answer_was_lost() {
    let world = World::<Coffee>::new().await;
    world
        .sandbox
        .inject_route_fault(Route::Pay, RouteFault::AnswerLost, FaultTimes::Once);
    world
        .sandbox
        .inject_route_fault(Route::Query2, RouteFault::Http500, FaultTimes::Always);
    let checkout = world.payments().checkout(coffee("lost-1", "2.00")).await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "{checkout:?}"
    );

    world.sandbox.clear_route_faults();
    world.clock.advance(xorpay::time::Duration::minutes(5));
    let report = world.payments().reconcile().await.unwrap();
    assert_eq!(report.recovered, 1, "{report:?}");
    let Some(StoredOrder::Pending(pending)) = world.stored("lost-1").await else {
        panic!("the order created at XorPay is still not pending in the store")
    };
    assert_eq!(pending.aoid().unwrap().as_str(), world.aoid("lost-1"));
    assert_eq!(world.sandbox.orders().len(), 1);
}

/// Point 5. The payer paid, XorPay could not take its fee from the merchant's balance: the
/// merchant must be told, not left with an order pending forever.
#[tokio::test]
async fn fee_error_tells_the_merchant_to_top_up() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let world = World::<Coffee>::new().await;
    let _ = world
        .payments()
        .checkout(coffee("fee-1", "10.00"))
        .await
        .unwrap();
    world.sandbox.set_balance_fen(Some(0));
    world.pay("fee-1").await;
    world.clock.advance(xorpay::time::Duration::minutes(5));
    let _ = world.payments().reconcile().await.unwrap();
    let log = captured.text();
    assert!(
        log.contains("fee_error") && log.contains("top up"),
        "nothing told the merchant: {log:?}"
    );
}

/// A service whose XorPay is a scripted stand-in, with one paid order: a created-order
/// answer and a notification signed with the merchant's secret, as XorPay would send them.
async fn paid_offline(
    answers: Vec<(&'static str, u16, &'static str)>,
    id: &str,
) -> (Payments<Coffee>, tempdir::Dir) {
    let aoid = "e19c8c8673ba42419043fc92b99303c1";
    let mut answers = answers;
    answers.push((
        "/api/pay/",
        200,
        r#"{"status":"ok","aoid":"e19c8c8673ba42419043fc92b99303c1","expires_in":7200,"info":{"qr":"weixin://wxpay/bizpayurl?pr=abc"}}"#,
    ));
    let base = scripted_xorpay(answers).await;
    let dir = tempdir::Dir::new("money");
    let payments = Payments::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url("http://127.0.0.1:9/notify")
        .store(SqliteStore::open(dir.path().join("orders.sqlite")).unwrap())
        .base_url(base)
        .clock(Clock::manual(xorpay::time::OffsetDateTime::now_utc()))
        .timeout(Duration::from_millis(800))
        .no_background()
        .build()
        .unwrap();
    let checkout = payments.checkout(coffee(id, "1.00")).await.unwrap();
    assert!(matches!(checkout, Checkout::Pending(_)), "{checkout:?}");
    let body = support::signed_notification(aoid, id, "1.00");
    assert!(payments.confirm(body.as_bytes()).await.unwrap().is_new());
    (payments, dir)
}

/// The paid order `id`, loaded.
async fn paid_order(payments: &Payments<Coffee>, id: &str) -> Order<Coffee, Paid> {
    match payments.order(id).await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!(
            "expected {id} paid, found {:?}",
            other.map(|o| o.state_name())
        ),
    }
}

/// Point 6. A refund status this version does not know may mean XorPay refunded: it must stay
/// in doubt, not be cleared as if refused (which lets it be sent again).
#[tokio::test]
async fn an_unknown_refund_status_keeps_the_refund_in_doubt() {
    let refund = ("/api/refund/", 200, r#"{"status":"refund_processing"}"#);
    let (payments, _dir) = paid_offline(vec![refund], "doubt-unknown").await;
    let paid = paid_order(&payments, "doubt-unknown").await;
    let outcome = payments.refund(&paid, price("0.10"), "r1").await;
    assert!(
        matches!(
            &outcome,
            Err(RefundError::InDoubt {
                error: Some(xorpay::client::ClientError::Api(
                    xorpay::ApiError::Unknown { .. }
                )),
                ..
            })
        ),
        "{outcome:?}"
    );
    let Some(StoredOrder::Paid(paid)) = payments.order("doubt-unknown").await.unwrap() else {
        panic!("expected paid")
    };
    assert_eq!(
        paid.refund_in_doubt().map(|r| r.amount()),
        Some(price("0.10"))
    );
}

/// Point 6. A non-2xx answer is not a success, whatever its JSON says.
#[tokio::test]
async fn an_ok_under_an_error_status_is_not_a_success() {
    let refund = ("/api/refund/", 400, r#"{"status":"ok"}"#);
    let (payments, _dir) = paid_offline(vec![refund], "doubt-403").await;
    let paid = paid_order(&payments, "doubt-403").await;
    let outcome = payments.refund(&paid, price("0.10"), "r1").await;
    assert!(
        matches!(outcome, Err(RefundError::InDoubt { .. })),
        "a 400 counted as a refund: {outcome:?}"
    );
    let Some(StoredOrder::Paid(paid)) = payments.order("doubt-403").await.unwrap() else {
        panic!("expected paid")
    };
    assert_eq!(paid.refunded(), None);

    let created = (
        "/api/pay/",
        403,
        r#"{"status":"ok","aoid":"e19c8c8673ba42419043fc92b99303c1","expires_in":7200,"info":{"qr":"weixin://wxpay/bizpayurl?pr=abc"}}"#,
    );
    let base = scripted_xorpay(vec![created]).await;
    let dir = tempdir::Dir::new("money");
    let payments = Payments::builder()
        .aid("1000")
        .secret(SECRET)
        .notify_url("http://127.0.0.1:9/notify")
        .store(SqliteStore::open(dir.path().join("orders.sqlite")).unwrap())
        .base_url(base)
        .no_background()
        .build()
        .unwrap();
    let checkout = payments.checkout(coffee("created-403", "1.00")).await;
    assert!(
        matches!(checkout, Err(CheckoutError::InDoubt(_))),
        "a 403 counted as a created order: {checkout:?}"
    );
}

/// Point 7. A genuine notification whose `pay_time` has a form nobody documented is still a
/// payment: the field is informational.
#[test]
fn a_genuine_notification_with_an_odd_pay_time_verifies() {
    for pay_time in ["2026-11-27T21:03:59+08:00", "2026/11/27 21:03:59", ""] {
        let body = support::signed_notification_at(
            "e19c8c8673ba42419043fc92b99303c1",
            "odd-time",
            "1.00",
            pay_time,
        );
        let verified = Notification::parse(body.as_bytes())
            .unwrap()
            .verify(&secret());
        assert!(verified.is_ok(), "{pay_time:?}: {verified:?}");
        assert_eq!(verified.unwrap().raw_pay_time(), pay_time);
    }
}

/// Point 7. When the store's conditional write does not apply, the order must be read back:
/// only an order that really is paid is acknowledged as "already paid".
#[tokio::test]
async fn a_write_that_did_not_apply_is_read_back_before_acknowledging() {
    let world = World::<Coffee>::new().await;
    world.notifications_answer(503);
    let _ = world
        .payments()
        .checkout(coffee("readback-1", "4.00"))
        .await
        .unwrap();
    let aoid = world.aoid("readback-1");
    // The row's columns no longer let the conditional write apply (another writer, a
    // migration gone wrong): the order is not paid, whatever the write's caller assumes.
    let db = rusqlite::Connection::open(world.db()).unwrap();
    db.execute(
        "UPDATE orders SET aoid = 'ffffffffffffffffffffffffffffffff' WHERE order_id = 'readback-1'",
        [],
    )
    .unwrap();
    let body = support::signed_notification(&aoid, "readback-1", "4.00");
    let confirmed = world.payments().confirm(body.as_bytes()).await;
    assert!(
        confirmed.is_err(),
        "acknowledged although the store did not record the payment"
    );
    assert!(matches!(
        confirmed,
        Err(NotifyError::Store(_) | NotifyError::Order(OrderError::Changed { .. }))
    ));
    // Nothing paid.
    let db = rusqlite::Connection::open(world.db()).unwrap();
    let state: String = db
        .query_row(
            "SELECT state FROM orders WHERE order_id = 'readback-1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(state, "pending");
}
