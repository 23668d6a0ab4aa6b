//! Issue 9: the ways the first version could lose money, each driven against the client, the
//! store and the sandbox as a merchant's code would meet it. Every test here failed on the
//! first version; the closing note of the issue lists what each showed.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use support::SECRET;
use support::receiver::{Receiver, scripted_xorpay};
use support::tempdir;
use xorpay::client::Client;
use xorpay::order::{Expiry, Order, Paid, StoredOrder};
use xorpay::prelude::*;
use xorpay::response::CreateOrderResponse;
use xorpay::store::{
    OrderStore, ReconcilePolicy, RefundOutcome, SqliteStore, Transition, confirm_notification,
    confirm_notification_with, reconcile, refund,
};
use xorpay::time::OffsetDateTime;
use xorpay::{Aid, AppSecret, Notification, Price};
use xorpay_sandbox::Sandbox;

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

fn secret() -> AppSecret {
    AppSecret::new(SECRET).unwrap()
}

async fn sandbox() -> Sandbox {
    Sandbox::builder()
        .secret(SECRET)
        .retry_unit(Duration::from_millis(5))
        .build()
        .start()
        .await
        .unwrap()
}

fn client(base_url: &str, aid: &str, notify_url: &str) -> Client {
    Client::builder()
        .aid(Aid::new(aid).unwrap())
        .secret(secret())
        .notify_url(notify_url)
        .base_url(base_url)
        .timeout(Duration::from_millis(800))
        .build()
        .unwrap()
}

fn store<O>(dir: &tempdir::Dir) -> SqliteStore<O> {
    SqliteStore::open(dir.path().join("orders.sqlite")).unwrap()
}

fn later() -> OffsetDateTime {
    OffsetDateTime::now_utc() + xorpay::time::Duration::minutes(5)
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

fn coffee(id: &str, total: &str) -> Order<Coffee> {
    Order::new(Coffee {
        id: id.into(),
        title: "咖啡".into(),
        total: price(total),
    })
    .unwrap()
}

#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = cashier, notify_url = from_client)]
struct Counter {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
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

/// A native order stored, submitted, paid in the sandbox, confirmed through the store, and
/// `success` at XorPay (refundable).
async fn paid_coffee(
    sandbox: &Sandbox,
    client: &Client,
    store: &SqliteStore<Coffee>,
    receiver: &mut Receiver,
    id: &str,
    total: &str,
) {
    let created = coffee(id, total);
    store.insert(&created).await.unwrap();
    let pending = client.submit(created).await.unwrap();
    assert_eq!(
        store.mark_pending(&pending).await.unwrap(),
        Transition::Applied
    );
    let aoid = pending.aoid().unwrap().to_string();
    sandbox.pay(&aoid).await.unwrap();
    let notification = receiver.next_verified(SECRET).await;
    assert!(
        confirm_notification(store, notification)
            .await
            .unwrap()
            .is_new()
    );
    sandbox
        .wait_for(&aoid, Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await;
}

async fn load_paid<O>(store: &SqliteStore<O>, id: &str) -> Order<O, Paid>
where
    SqliteStore<O>: OrderStore<O>,
    O: std::fmt::Debug,
{
    match store.load(id).await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!("expected {id} paid, found {other:?}"),
    }
}

/// Point 1. Two copies loaded at the same revision: Y begins a refund and saves it; X, which
/// changed twice since its load (begun and made), must not overwrite Y's newer save.
#[tokio::test]
async fn a_copy_changed_twice_since_its_load_cannot_overwrite_a_newer_save() {
    let dir = tempdir::Dir::new("money");
    let store = store::<Coffee>(&dir);
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);
    paid_coffee(&sandbox, &client, &store, &mut receiver, "cas-1", "5.00").await;

    let mut x = load_paid(&store, "cas-1").await;
    let mut y = load_paid(&store, "cas-1").await;
    let now = OffsetDateTime::now_utc();
    let y_ticket = y.begin_refund(price("1.00"), now).unwrap();
    assert_eq!(
        store.update_paid(&mut y).await.unwrap(),
        Transition::Applied
    );

    // X changes several times since its load (a refund begun, given up, begun again), then
    // saves over Y's save.
    let _ = x.begin_refund(price("2.00"), now).unwrap();
    x.resolve_refund_in_doubt(false);
    let x_ticket = x.begin_refund(price("2.00"), now).unwrap();
    assert_eq!(
        store.update_paid(&mut x).await.unwrap(),
        Transition::NotApplied,
        "a copy loaded before Y's save overwrote it"
    );
    // Its refund was never recorded, so it is never sent.
    let unsent = client.send_refund(&mut x, x_ticket).await;
    assert!(matches!(
        unsent,
        Err(xorpay::client::ClientError::RefundLimit(
            xorpay::order::RefundLimit::NotRecorded
        ))
    ));

    // Y's own refund goes through, and its save applies.
    client.send_refund(&mut y, y_ticket).await.unwrap();
    assert_eq!(
        store.update_paid(&mut y).await.unwrap(),
        Transition::Applied
    );
    // The store and XorPay agree: 1.00 refunded, once.
    let paid = load_paid(&store, "cas-1").await;
    assert_eq!(paid.refunded(), Some(price("1.00")));
    let ledger = sandbox.order(paid.aoid().unwrap().as_str()).unwrap();
    assert_eq!(ledger.refunded_fen, 100);
    assert_eq!(ledger.refunds.len(), 1);
}

/// Point 2, through the notify route's function. A cashier order (XorPay names no aoid until
/// it is paid) that expired by the local clock, paid late: the payment must be recorded.
#[tokio::test]
async fn a_late_payment_of_an_expired_cashier_order_is_recorded() {
    let dir = tempdir::Dir::new("money");
    let store = store::<Counter>(&dir);
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);

    let created = Order::new(Counter {
        id: "late-1".into(),
        title: "收银台".into(),
        total: price("3.00"),
    })
    .unwrap();
    store.insert(&created).await.unwrap();
    let (pending, page) = client.cashier(created).unwrap();
    assert_eq!(
        store.mark_pending(&pending).await.unwrap(),
        Transition::Applied
    );
    // The payer opens XorPay's cashier page, and pays after the shop's clock expired it.
    let opened = reqwest::get(&page.url).await.unwrap();
    assert_eq!(opened.status(), 200);
    let Expiry::Expired(expired) = pending.expire(later() + xorpay::time::Duration::hours(3))
    else {
        panic!("expected the order to expire by the clock")
    };
    assert_eq!(
        store.mark_expired(&expired).await.unwrap(),
        Transition::Applied
    );
    let aoid = sandbox.order_by_order_id("late-1").unwrap().aoid;
    sandbox.pay(&aoid).await.unwrap();

    let notification = receiver.next_verified(SECRET).await;
    let confirmed = confirm_notification_with(&store, &client, notification).await;
    assert!(
        confirmed.is_ok(),
        "a genuine late payment was refused: {confirmed:?}"
    );
    assert_eq!(
        store.load("late-1").await.unwrap().unwrap().state_name(),
        "paid"
    );
}

/// Point 2, through reconciliation: the same late payment whose notifications all failed is
/// found by asking XorPay about expired orders within the grace window.
#[tokio::test]
async fn reconciliation_finds_a_late_payment_of_an_expired_order() {
    let dir = tempdir::Dir::new("money");
    let store = store::<Counter>(&dir);
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);

    let created = Order::new(Counter {
        id: "late-2".into(),
        title: "收银台".into(),
        total: price("3.00"),
    })
    .unwrap();
    store.insert(&created).await.unwrap();
    let (pending, page) = client.cashier(created).unwrap();
    let _ = store.mark_pending(&pending).await.unwrap();
    reqwest::get(&page.url).await.unwrap();
    let Expiry::Expired(expired) = pending.expire(later() + xorpay::time::Duration::hours(3))
    else {
        panic!("expected the order to expire by the clock")
    };
    let _ = store.mark_expired(&expired).await.unwrap();
    let aoid = sandbox.order_by_order_id("late-2").unwrap().aoid;
    sandbox.pay(&aoid).await.unwrap();

    let _ = reconcile(&store, &client, later(), &ReconcilePolicy::default())
        .await
        .unwrap();
    assert_eq!(
        store.load("late-2").await.unwrap().unwrap().state_name(),
        "paid",
        "XorPay says paid, the store still says expired"
    );
}

/// Point 3. A barcode payment charges at once; its answer was lost and every notification
/// failed. Reconciliation must find the charge of an order still `created`.
#[tokio::test]
async fn reconciliation_records_a_charged_barcode_order_whose_answer_was_lost() {
    let dir = tempdir::Dir::new("money");
    let store = store::<Scan>(&dir);
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    receiver.answer(500);
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);

    let scan = Scan {
        id: "scan-1".into(),
        title: "门店订单".into(),
        total: price("1.00"),
        code: "134657556554411111".into(),
    };
    // The request reached XorPay, which charged the code; its answer never came back.
    let body = scan
        .with_notify_url(&receiver.url)
        .to_request(&secret())
        .unwrap()
        .body()
        .to_owned();
    let created = Order::new(scan).unwrap();
    store.insert(&created).await.unwrap();
    let answer = reqwest::Client::new()
        .post(format!(
            "{}/api/barcode_pay/{}",
            sandbox.base_url(),
            sandbox.aid()
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(answer.text().await.unwrap().contains("success"));
    drop(created);

    let _ = reconcile(&store, &client, later(), &ReconcilePolicy::default())
        .await
        .unwrap();
    assert_eq!(
        store.load("scan-1").await.unwrap().unwrap().state_name(),
        "paid",
        "the customer was charged, the store still says created"
    );
}

/// Point 3, an order created at XorPay whose answer was lost: reconciliation recovers it
/// (query2, then the identical re-submission), so the payer can still pay.
#[tokio::test]
async fn reconciliation_recovers_an_order_created_at_xorpay_whose_answer_was_lost() {
    let dir = tempdir::Dir::new("money");
    let store = store::<Coffee>(&dir);
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);

    let created = coffee("lost-1", "2.00");
    let body = created
        .inner()
        .with_notify_url(&receiver.url)
        .to_request(&secret())
        .unwrap()
        .body()
        .to_owned();
    store.insert(&created).await.unwrap();
    reqwest::Client::new()
        .post(format!("{}/api/pay/{}", sandbox.base_url(), sandbox.aid()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();

    let _ = reconcile(&store, &client, later(), &ReconcilePolicy::default())
        .await
        .unwrap();
    let Some(StoredOrder::Pending(pending)) = store.load("lost-1").await.unwrap() else {
        panic!("the order created at XorPay is still not pending in the store")
    };
    assert_eq!(
        pending.aoid().unwrap().as_str(),
        sandbox.order_by_order_id("lost-1").unwrap().aoid
    );
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

    let dir = tempdir::Dir::new("money");
    let store = store::<Coffee>(&dir);
    let sandbox = sandbox().await;
    let receiver = Receiver::start().await;
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);
    let created = coffee("fee-1", "10.00");
    store.insert(&created).await.unwrap();
    let pending = client.submit(created).await.unwrap();
    let _ = store.mark_pending(&pending).await.unwrap();
    sandbox.set_balance_fen(Some(0));
    let paid = sandbox.pay(pending.aoid().unwrap().as_str()).await.unwrap();
    assert_eq!(paid.state, xorpay_sandbox::OrderState::FeeError);

    let _ = reconcile(&store, &client, later(), &ReconcilePolicy::default())
        .await
        .unwrap();
    let log = captured.text();
    assert!(
        log.contains("fee_error") && log.contains("top up"),
        "nothing told the merchant: {log:?}"
    );
}

/// Point 6. A refund status this version does not know may mean XorPay refunded: it must stay
/// in doubt, not be cleared as if refused (which lets it be sent again).
#[tokio::test]
async fn an_unknown_refund_status_keeps_the_refund_in_doubt() {
    let base = scripted_xorpay(vec![(
        "/api/refund/",
        200,
        r#"{"status":"refund_processing"}"#,
    )])
    .await;
    let client = client(&base, "1000", "http://127.0.0.1:9/notify");
    let store = paid_offline("doubt-unknown", "1.00").await;
    let now = OffsetDateTime::now_utc();
    let outcome = refund(&store, &client, "doubt-unknown", price("0.10"), now).await;
    assert!(
        matches!(&outcome, Ok(RefundOutcome::InDoubt(error)) if error.outcome_unknown()),
        "{outcome:?}"
    );
    let paid = load_paid(&store, "doubt-unknown").await;
    assert_eq!(paid.refund_in_doubt(), Some(price("0.10")));
}

/// Point 6. A non-2xx answer is not a success, whatever its JSON says.
#[tokio::test]
async fn an_ok_under_an_error_status_is_not_a_success() {
    let base = scripted_xorpay(vec![
        ("/api/refund/", 400, r#"{"status":"ok"}"#),
        (
            "/api/pay/",
            403,
            r#"{"status":"ok","aoid":"e19c8c8673ba42419043fc92b99303c1","expires_in":7200,"info":{"qr":"weixin://wxpay/bizpayurl?pr=abc"}}"#,
        ),
    ])
    .await;
    let client = client(&base, "1000", "http://127.0.0.1:9/notify");
    let store = paid_offline("doubt-403", "1.00").await;
    let now = OffsetDateTime::now_utc();
    let outcome = refund(&store, &client, "doubt-403", price("0.10"), now).await;
    assert!(
        matches!(outcome, Ok(RefundOutcome::InDoubt(_))),
        "a 400 counted as a refund: {outcome:?}"
    );
    let paid = load_paid(&store, "doubt-403").await;
    assert_eq!(paid.refunded(), None);
    assert_eq!(paid.refund_in_doubt(), Some(price("0.10")));

    let submitted = client.submit(coffee("created-403", "1.00")).await;
    let Err(failed) = submitted else {
        panic!("a 403 counted as a created order")
    };
    assert!(failed.error().outcome_unknown(), "{}", failed.error());
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
    let dir = tempdir::Dir::new("money");
    let store = store::<Coffee>(&dir);
    let sandbox = sandbox().await;
    let mut receiver = Receiver::start().await;
    let client = client(sandbox.base_url(), sandbox.aid(), &receiver.url);
    let created = coffee("readback-1", "4.00");
    store.insert(&created).await.unwrap();
    let pending = client.submit(created).await.unwrap();
    let _ = store.mark_pending(&pending).await.unwrap();
    sandbox.pay(pending.aoid().unwrap().as_str()).await.unwrap();
    let notification = receiver.next_verified(SECRET).await;

    // The row's columns no longer let the conditional write apply (another writer, a
    // migration gone wrong): the order is not paid, whatever mark_paid's caller assumes.
    rusqlite::Connection::open(dir.path().join("orders.sqlite"))
        .unwrap()
        .execute(
            "UPDATE orders SET aoid = 'ffffffffffffffffffffffffffffffff' WHERE order_id = 'readback-1'",
            [],
        )
        .unwrap();
    let confirmed = confirm_notification(&store, notification).await;
    assert!(
        confirmed.is_err(),
        "acknowledged although the store did not record the payment"
    );
    assert_eq!(
        store
            .load("readback-1")
            .await
            .unwrap()
            .unwrap()
            .state_name(),
        "pending"
    );
}

/// A paid order stored without a server (in memory): a created-order answer and a
/// notification signed with the merchant's secret, as XorPay would send them.
async fn paid_offline(id: &str, total: &str) -> SqliteStore<Coffee> {
    let store = SqliteStore::in_memory().unwrap();
    let created = coffee(id, total);
    store.insert(&created).await.unwrap();
    let aoid = "e19c8c8673ba42419043fc92b99303c1";
    let answer = format!(
        r#"{{"status":"ok","aoid":"{aoid}","expires_in":7200,"info":{{"qr":"weixin://wxpay/bizpayurl?pr=abc"}}}}"#
    );
    let answer = CreateOrderResponse::from_json(answer.as_bytes())
        .unwrap()
        .into_result()
        .unwrap();
    let pending = created.submitted(answer, OffsetDateTime::now_utc());
    let _ = store.mark_pending(&pending).await.unwrap();
    let body = support::signed_notification(aoid, id, total);
    let verified = Notification::parse(body.as_bytes())
        .unwrap()
        .verify(&secret())
        .unwrap();
    let paid = pending.confirm(verified).unwrap();
    assert_eq!(store.mark_paid(&paid).await.unwrap(), Transition::Applied);
    store
}

/// Captures what a tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
