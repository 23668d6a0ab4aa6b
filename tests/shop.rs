//! The demo shop's store and notify route: "paid once, never lost" under duplicate,
//! concurrent, forged and tampered notifications, and across a crash.

mod demo_shop;
mod support;

use std::time::Duration;

use demo_shop::{SHOP_TIMEOUT, buy, sandbox, start_shop, state};
use support::{SECRET, eventually, signed_notification};
use xorpay::prelude::*;
use xorpay_sandbox::OrderFault;

async fn order_state(shop: &state::Shop, id: &str) -> &'static str {
    shop.payments()
        .order(id)
        .await
        .unwrap()
        .map_or("missing", |order| order.state_name())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_deliveries_fulfil_once_and_are_all_acknowledged() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let id = buy(&running.url, "latte").await;
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    let body = signed_notification(&aoid, &id, "18.00");

    let http = reqwest::Client::new();
    let deliveries = (0..100).map(|_| {
        let http = http.clone();
        let url = format!("{}/xorpay/notify", running.url);
        let body = body.clone();
        tokio::spawn(async move {
            let answer = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            (answer.status().as_u16(), answer.text().await.unwrap())
        })
    });
    let answers = futures_join(deliveries).await;
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 && body == "ok"),
        "{answers:?}"
    );
    // Of the hundred, the service's conditional write paid the order once (each delivery
    // being `is_new` exactly once is the scenarios' check); the delivery ran once.
    demo_shop::delivered_once(&running.shop, &id).await;
    assert_eq!(order_state(&running.shop, &id).await, "paid");
}

async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn forged_tampered_and_misdirected_notifications_change_nothing() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let first = buy(&running.url, "tea").await;
    let second = buy(&running.url, "latte").await;
    let first_aoid = running.sandbox.order_by_order_id(&first).unwrap().aoid;
    let second_aoid = running.sandbox.order_by_order_id(&second).unwrap().aoid;
    let http = reqwest::Client::new();
    let post = |body: String| {
        let request = http
            .post(format!("{}/xorpay/notify", running.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };

    let attempts = [
        // Signed with another secret.
        signed_notification(&first_aoid, &first, "12.50").replace("sign=", "sign=0"),
        // The amount changed after signing.
        signed_notification(&first_aoid, &first, "12.50")
            .replace("pay_price=12.50", "pay_price=0.01"),
        // Genuinely signed, but the amount is not the order's.
        signed_notification(&first_aoid, &first, "0.01"),
        // Genuinely signed for the other order's aoid.
        signed_notification(&second_aoid, &first, "12.50"),
        // An order the shop does not have.
        signed_notification(&first_aoid, "shop-0-unknown", "12.50"),
    ];
    for body in attempts {
        let status = post(body.clone()).await;
        assert_ne!(status, 200, "accepted: {body}");
    }
    // A genuine notification padded past the parser's cap is refused before it is read.
    let padding = "x".repeat(xorpay::Notification::MAX_BODY);
    let padded = format!(
        "{}&pad={padding}",
        signed_notification(&first_aoid, &first, "12.50")
    );
    assert_eq!(post(padded).await, 413);
    assert_eq!(order_state(&running.shop, &first).await, "pending");
    assert_eq!(order_state(&running.shop, &second).await, "pending");
    assert_eq!(running.shop.deliveries_of(&first).await, 0);

    // The sandbox's own forgeries (posted before the genuine notification) are refused, and
    // the genuine one then pays the order once.
    running
        .sandbox
        .set_order_fault(&first_aoid, OrderFault::TamperedAmount)
        .unwrap();
    running
        .sandbox
        .set_order_fault(&second_aoid, OrderFault::TamperedSignature)
        .unwrap();
    running.sandbox.pay(&first_aoid).await.unwrap();
    running.sandbox.pay(&second_aoid).await.unwrap();
    for (id, aoid) in [(&first, &first_aoid), (&second, &second_aoid)] {
        let shop = running.shop.clone();
        eventually("the genuine notification", async || {
            order_state(&shop, id).await == "paid"
        })
        .await;
        let attempts = running.sandbox.deliveries(aoid);
        let refused = attempts
            .iter()
            .filter(|attempt| attempt.status != Some(200))
            .count();
        assert!(refused >= 1, "the forgery was not refused: {attempts:?}");
        demo_shop::delivered_once(&shop, id).await;
    }
}

#[tokio::test]
async fn duplicated_deliveries_by_xorpay_fulfil_once() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let id = buy(&running.url, "cookie").await;
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    running
        .sandbox
        .set_order_fault(&aoid, OrderFault::Concurrent { copies: 32 })
        .unwrap();
    running.sandbox.pay(&aoid).await.unwrap();
    let shop = running.shop.clone();
    eventually("the order to be paid", async || {
        order_state(&shop, &id).await == "paid"
    })
    .await;
    let sandbox = &running.sandbox;
    eventually("every copy to be answered", async || {
        sandbox.deliveries(&aoid).len() >= 32
    })
    .await;
    assert!(
        running
            .sandbox
            .deliveries(&aoid)
            .iter()
            .all(|attempt| attempt.status == Some(200)),
        "{:?}",
        running.sandbox.deliveries(&aoid)
    );
    demo_shop::delivered_once(&running.shop, &id).await;
}

/// The shop as a separate process, so that it can really die.
struct ShopProcess {
    child: tokio::process::Child,
    url: String,
}

async fn spawn_shop(
    sandbox: &xorpay_sandbox::Sandbox,
    db: &std::path::Path,
    addr: &str,
    crash: bool,
) -> ShopProcess {
    let binary = shop_binary();
    let mut command = tokio::process::Command::new(binary);
    command
        .env("SHOP_ADDR", addr)
        .env("SHOP_PUBLIC_URL", format!("http://{addr}"))
        .env("SHOP_DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("XORPAY_AID", sandbox.aid())
        .env("XORPAY_APP_SECRET", SECRET)
        .env("XORPAY_BASE_URL", sandbox.base_url())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    if crash {
        command.env("SHOP_CRASH_AFTER_CONFIRM", "1");
    }
    let mut child = command.spawn().expect("the shop example runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let url = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the shop starts within 30 s")
            .unwrap()
            .expect("the shop prints its url");
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.to_owned();
        }
    };
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ShopProcess { child, url }
}

/// The example binary `cargo test` builds next to this test.
fn shop_binary() -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    let binary = path
        .join("examples")
        .join(format!("shop{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "build the example first: {}",
        binary.display()
    );
    binary
}

#[tokio::test]
async fn a_shop_killed_before_acknowledging_loses_nothing() {
    let sandbox = sandbox(Duration::from_millis(100)).await;
    let dir = support::TempDir::new("crash");
    let db = dir.path().join("shop.sqlite");
    // A fixed port, so that the notify URL XorPay holds still works after the restart.
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };

    let mut first = spawn_shop(&sandbox, &db, &addr, true).await;
    let id = buy(&first.url, "latte").await;
    let aoid = sandbox.order_by_order_id(&id).unwrap().aoid;
    sandbox.pay(&aoid).await.unwrap();
    // The shop stores the payment, then dies before answering.
    let status = tokio::time::timeout(Duration::from_secs(20), first.child.wait())
        .await
        .expect("the shop dies on the notification")
        .unwrap();
    assert!(!status.success());
    // The payment was durable before the crash: the file already says paid.
    assert_eq!(state_on_disk(&db, &id), "paid");

    let restarted = spawn_shop(&sandbox, &db, &addr, false).await;
    // XorPay's retry reaches the restarted shop, which finds the order paid, delivers it
    // (it had not been) and acknowledges.
    eventually("the retried notification to be acknowledged", async || {
        sandbox.order(&aoid).unwrap().state == xorpay_sandbox::OrderState::Success
    })
    .await;
    let status: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("{}/orders/{id}/status", restarted.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(status["state"], "paid");
    let attempts = sandbox.deliveries(&aoid);
    assert!(attempts.len() >= 2, "{attempts:?}");
    assert_ne!(attempts[0].status, Some(200));

    // Exactly one delivery, recorded in the shop's own database, by the restarted shop's
    // fulfilment sweep; the service recorded it fulfilled.
    let runs = || -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT COALESCE(SUM(runs), 0) FROM deliveries WHERE order_id = ?1",
                [&id],
                |row| row.get(0),
            )
            .unwrap()
    };
    eventually("the order to be delivered", async || runs() == 1).await;
    eventually("the delivery to be recorded", async || {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row(
                "SELECT fulfilled_unix IS NOT NULL FROM xorpay_orders WHERE order_id = ?1",
                [&id],
                |row| row.get::<_, bool>(0),
            )
            .unwrap()
    })
    .await;
    assert_eq!(runs(), 1);
    assert_eq!(state_on_disk(&db, &id), "paid");
}

/// The order's state column in the store's file.
fn state_on_disk(db: &std::path::Path, id: &str) -> String {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT state FROM xorpay_orders WHERE order_id = ?1",
            [id],
            |row| row.get(0),
        )
        .unwrap()
}

/// The admin's CSRF token, read from its page as a browser would submit it.
async fn admin_csrf(url: &str) -> String {
    let page = reqwest::get(format!("{url}/admin"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = page.find("name=\"csrf\" value=\"").expect("an admin form") + 19;
    page[start..start + 32].to_owned()
}

async fn admin_post(url: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut body = xorpay::form::FormBody::new();
    for (key, value) in fields {
        body.pair(key, value);
    }
    let answer = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into_string())
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

/// The key in an order's first admin form of this kind (`refund` or `resolve`).
fn key_in(admin: &str, id: &str, action: &str) -> String {
    let form = admin
        .find(&format!("/admin/orders/{id}/{action}"))
        .expect("the form");
    let needle = "name=\"key\" value=\"";
    let start = admin[form..].find(needle).unwrap() + form + needle.len();
    let end = admin[start..].find('"').unwrap() + start;
    admin[start..end].to_owned()
}

/// Issue 9, point 6: a refund whose outcome is unknown is said to be in doubt (not "the order
/// changed meanwhile"), stays counted, and the admin resolves it from XorPay's dashboard, but
/// only once the request that sent it has surely ended: a refund XorPay makes late is never
/// resolved away as "not made".
#[tokio::test]
async fn a_refund_in_doubt_is_shown_and_resolved_in_the_admin() {
    let running = start_shop(sandbox(Duration::from_millis(10)).await, None).await;
    let id = buy(&running.url, "latte").await;
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    running.sandbox.pay(&aoid).await.unwrap();
    let sandbox = &running.sandbox;
    eventually("the order to be success at XorPay", async || {
        sandbox.order(&aoid).unwrap().state == xorpay_sandbox::OrderState::Success
    })
    .await;
    let shop = running.shop.clone();
    eventually("the order to be paid", async || {
        order_state(&shop, &id).await == "paid"
    })
    .await;
    let admin_page = async || {
        reqwest::get(format!("{}/admin", running.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let paid = async || match running.shop.payments().order(&id).await.unwrap() {
        Some(StoredOrder::Paid(paid)) => paid,
        other => panic!("expected the order paid, found {other:?}"),
    };
    let csrf = admin_csrf(&running.url).await;
    let refund_path = format!("/admin/orders/{id}/refund");
    let resolve_path = format!("/admin/orders/{id}/resolve");

    // XorPay makes the refund at once, but its answer comes after the shop gave up waiting.
    running.sandbox.inject_route_fault(
        xorpay_sandbox::Route::Refund,
        xorpay_sandbox::RouteFault::answer_late(SHOP_TIMEOUT * 3),
        xorpay_sandbox::FaultTimes::Once,
    );
    let refund_key = key_in(&admin_page().await, &id, "refund");
    let (_, page) = admin_post(
        &running.url,
        &refund_path,
        &[("amount", "5.00"), ("key", &refund_key), ("csrf", &csrf)],
    )
    .await;
    assert!(!page.contains("changed meanwhile"), "{page}");
    assert!(page.contains("in doubt"), "{page}");
    assert_eq!(
        paid().await.refund_in_doubt().map(|r| r.amount()),
        "5.00".parse().ok()
    );
    // Too early, the dashboard proves nothing: "not made" is refused.
    let key = key_in(&admin_page().await, &id, "resolve");
    let (status, page) = admin_post(
        &running.url,
        &resolve_path,
        &[("made", "no"), ("key", &key), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("under way"), "{page}");
    assert_eq!(
        paid().await.refund_in_doubt().map(|r| r.amount()),
        "5.00".parse().ok()
    );
    // Later, the dashboard (here: the sandbox's ledger) shows it made.
    tokio::time::sleep(SHOP_TIMEOUT * 3 + Duration::from_millis(500)).await;
    assert_eq!(running.sandbox.order(&aoid).unwrap().refunded_fen, 500);
    let (status, page) = admin_post(
        &running.url,
        &resolve_path,
        &[("made", "yes"), ("key", &key), ("csrf", &csrf)],
    )
    .await;
    assert!(status < 400, "{status}: {page}");
    assert_eq!(paid().await.refunded(), "5.00".parse().ok());
    // A stale page cannot resolve it again.
    let (status, _) = admin_post(
        &running.url,
        &resolve_path,
        &[("made", "yes"), ("key", &key), ("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(paid().await.refunded(), "5.00".parse().ok());

    // The connection drops before XorPay handles the next refund: it was not made.
    running.sandbox.inject_route_fault(
        xorpay_sandbox::Route::Refund,
        xorpay_sandbox::RouteFault::DropConnection,
        xorpay_sandbox::FaultTimes::Once,
    );
    let refund_key = key_in(&admin_page().await, &id, "refund");
    let (_, page) = admin_post(
        &running.url,
        &refund_path,
        &[("amount", "2.00"), ("key", &refund_key), ("csrf", &csrf)],
    )
    .await;
    assert!(page.contains("in doubt"), "{page}");
    let key = key_in(&admin_page().await, &id, "resolve");
    tokio::time::sleep(SHOP_TIMEOUT * 3).await;
    assert_eq!(running.sandbox.order(&aoid).unwrap().refunds.len(), 1);
    let (status, page) = admin_post(
        &running.url,
        &resolve_path,
        &[("made", "no"), ("key", &key), ("csrf", &csrf)],
    )
    .await;
    assert!(status < 400, "{status}: {page}");
    let paid = paid().await;
    assert_eq!(paid.refund_in_doubt(), None);
    assert_eq!(paid.refunded(), "5.00".parse().ok());
    assert_eq!(running.sandbox.order(&aoid).unwrap().refunded_fen, 500);
}

/// Issue 9, point 7: the start-up sweep delivers every paid, undelivered order, not only
/// those among the 10,000 most recent.
#[tokio::test]
async fn the_delivery_sweep_reaches_every_paid_order() {
    let running = start_shop(sandbox(Duration::from_millis(10)).await, None).await;
    let id = buy(&running.url, "tea").await;
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    running.sandbox.pay(&aoid).await.unwrap();
    let shop = running.shop.clone();
    eventually("the order to be paid", async || {
        order_state(&shop, &id).await == "paid"
    })
    .await;

    // Delivered once by the background sweep; then a crash lost the delivery before it was
    // recorded, and since then 10,000 newer orders came in.
    let shop = running.shop.clone();
    eventually("the order to be delivered", async || {
        shop.deliveries_of(&id).await == 1
    })
    .await;
    let filler = buy(&running.url, "cookie").await;
    let file = running.db.path().join("shop.sqlite");
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute("DELETE FROM deliveries WHERE order_id = ?1", [&id])
        .unwrap();
    db.execute(
        "UPDATE xorpay_orders SET created_unix = 0, updated_unix = 0, fulfilled_unix = NULL
         WHERE order_id = ?1",
        [&id],
    )
    .unwrap();
    db.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
         INSERT INTO xorpay_orders (merchant, order_id, state, aoid, price_fen, revision,
                                    order_json, data_json, created_unix, submitted_unix,
                                    updated_unix)
         SELECT merchant, ?1 || '-' || i, state, NULL, price_fen, revision,
                replace(order_json, ?1, ?1 || '-' || i), data_json, created_unix + i,
                submitted_unix, updated_unix
         FROM xorpay_orders, n WHERE order_id = ?1",
        [&filler],
    )
    .unwrap();
    drop(db);
    assert_eq!(running.shop.deliveries_of(&id).await, 0);

    running.shop.deliver_outstanding().await;
    demo_shop::delivered_once(&running.shop, &id).await;
}

/// Each browser is offered the way it can pay (`xorpay::payer::kind_for`): WeChat's browser a
/// JSAPI order through the openid redirect, a computer a WeChat QR code, a phone's browser
/// elsewhere a link into Alipay's app. All three are one service's orders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_browser_is_offered_the_way_it_can_pay() {
    const PHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let cases = [
        (demo_shop::IN_WECHAT, "jsapi", "正在调起微信支付"),
        (demo_shop::ON_A_COMPUTER, "native", "请用微信扫一扫付款"),
        (PHONE_SAFARI, "alipay", "打开支付宝付款"),
    ];
    for (user_agent, pay_type, shown) in cases {
        let id = demo_shop::buy_in(&running.url, "tea", user_agent).await;
        let at_xorpay = running.sandbox.order_by_order_id(&id).unwrap();
        assert_eq!(at_xorpay.pay_type, pay_type, "{user_agent}");
        let page = reqwest::get(format!("{}/orders/{id}/pay", running.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(shown), "{pay_type}: {page}");
        if pay_type == "alipay" {
            // The link opens the answer's `qr` (an Alipay URL) in Alipay's app.
            let qr = at_xorpay.info["qr"].as_str().unwrap();
            assert!(qr.starts_with("https://qr.alipay.com/"), "{qr}");
            assert!(
                page.contains(&format!(
                    "id=\"open-alipay\" class=\"button\" href=\"{qr}\""
                )),
                "{page}"
            );
        }
    }
}
