//! The demo shop in a real browser: Debian's Chromium, headless, driven through
//! chromedriver (`scripts/test.sh` installs both, and a CJK font, when they are missing).
//! Payments happen in WeChat's in-app browser on phones, so most purchases here run on a
//! 375-pixel-wide screen that names itself WeChat (the JSAPI path); a computer gets a WeChat
//! QR code. The tests check that every phone page fits the screen, read the pages' visible
//! text (Chinese included) and save screenshots under `target/screenshots/`.

mod demo_shop;
mod support;

use std::time::Duration;

use demo_shop::{ShopSetup, buy, sandbox, start_shop, state};
use fantoccini::{ClientBuilder, Locator};
use xorpay::order::StoredOrder;

/// A headless Chromium under its own chromedriver, both ended on drop.
struct Browser {
    client: fantoccini::Client,
    _driver: tokio::process::Child,
    _profile: support::TempDir,
}

fn executable(name: &str) -> std::path::PathBuf {
    let candidates = [format!("/usr/bin/{name}"), format!("/usr/local/bin/{name}")];
    candidates
        .iter()
        .map(std::path::PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("{name} is not installed: run ./scripts/test.sh, which installs it")
        })
}

async fn browser() -> Browser {
    launch(false).await
}

/// A browser the size of a phone: 375 by 812 CSS pixels.
async fn phone() -> Browser {
    launch(true).await
}

async fn launch(phone: bool) -> Browser {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = tokio::process::Command::new(executable("chromedriver"))
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let profile = support::TempDir::new("chromium");
    let mut options = serde_json::json!({
        "binary": executable("chromium"),
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--lang=zh-CN",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    if phone {
        options["mobileEmulation"] = serde_json::json!({
            "deviceMetrics": { "width": 375, "height": 812, "pixelRatio": 2.0, "mobile": true },
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47",
        });
    }
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": options,
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session");
    Browser {
        client,
        _driver: driver,
        _profile: profile,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_computer_the_shop_shows_a_wechat_qr_and_turns_to_paid_when_the_phone_pays() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    // Headless Chromium on Linux names itself as a desktop browser.
    let browser = browser().await;
    let page = &browser.client;
    let user_agent = page
        .execute("return navigator.userAgent;", vec![])
        .await
        .unwrap();
    assert_eq!(
        xorpay::payer::PayerApp::from_user_agent(user_agent.as_str().unwrap()),
        xorpay::payer::PayerApp::Desktop,
        "{user_agent}"
    );

    page.goto(&format!("{}/", running.url)).await.unwrap();
    page.find(Locator::Id("buy-latte"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // No openid redirect: straight to a QR page for a native order.
    let qr = wait_for(page, "img#qr").await;
    let id = order_id(page).await;
    let Some(StoredOrder::Pending(pending)) = running.shop.payments().order(&id).await.unwrap()
    else {
        panic!("{id} is not pending")
    };
    let text = pending.qr().expect("a native order's QR text").to_owned();
    assert!(text.starts_with("weixin://wxpay/bizpayurl?pr="), "{text}");
    assert_eq!(
        qr.attr("src").await.unwrap(),
        Some(running.shop.payments().client().qr_image_url(&text))
    );
    let at_xorpay = running.sandbox.order_by_order_id(&id).unwrap();
    assert_eq!(at_xorpay.pay_type, "native");
    // The image is XorPay's renderer's (the sandbox's here), loaded and drawn.
    let drawn = page
        .execute(
            "var qr = document.getElementById('qr'); return qr.complete && qr.naturalWidth > 0;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(drawn, serde_json::Value::Bool(true));
    let shown = visible_text(page).await;
    for text in ["拿铁咖啡 Latte", "18.00", "请用微信扫一扫付款", "订单号"] {
        assert!(
            shown.contains(text),
            "{text:?} is not on the QR page: {shown}"
        );
    }
    shot(page, "desktop-1-qr").await;

    // The payer scans with their phone and pays there: the sandbox's stand-in for the phone,
    // linked from the QR page, in a second window. The page on the computer moves to the
    // order page by itself, paid.
    let scan = page
        .find(Locator::Id("sandbox-scan"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .expect("the link to the sandbox's scanning phone");
    assert_eq!(
        scan,
        format!(
            "{}/_sandbox/scan/{}",
            running.sandbox.base_url(),
            at_xorpay.aoid
        )
    );
    let computer = page.window().await.unwrap();
    let phone = page.new_window(false).await.unwrap().handle;
    page.switch_to_window(phone).await.unwrap();
    page.goto(&scan).await.unwrap();
    let shown = visible_text(page).await;
    assert!(shown.contains("¥18.00"), "{shown}");
    page.find(Locator::Id("xorpay-sandbox-scan-pay"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let paid = wait_for(page, "#xorpay-sandbox-result").await;
    page.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//*[@id='xorpay-sandbox-result' and contains(., '支付成功')]",
        ))
        .await
        .unwrap_or_else(|_| panic!("the sandbox's phone did not pay: {paid:?}"));
    page.close_window().await.unwrap();
    page.switch_to_window(computer).await.unwrap();
    let status = wait_for(page, "#status[data-state='paid']").await;
    assert_eq!(status.text().await.unwrap(), "已支付 Paid");
    shot(page, "desktop-2-paid").await;
    demo_shop::delivered_once(&running.shop, &id).await;
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_the_page_invokes_the_bridge_with_the_orders_six_parameters() {
    // The shop as it runs against the real XorPay: no stand-in on the page.
    let running = start_shop(
        sandbox(Duration::from_secs(60)).await,
        Some(state::Bridge::WeChat),
    )
    .await;
    let id = buy(&running.url, "tea").await;
    let Some(StoredOrder::Pending(pending)) = running.shop.payments().order(&id).await.unwrap()
    else {
        panic!("the order is pending")
    };
    let expected = serde_json::to_value(pending.jsapi_params().unwrap()).unwrap();

    let browser = browser().await;
    let page = &browser.client;
    page.goto(&format!("{}/orders/{id}/pay", running.url))
        .await
        .unwrap();
    assert!(
        !page
            .source()
            .await
            .unwrap()
            .contains("_sandbox/jsbridge.js")
    );

    // WeChat's in-app browser injects WeixinJSBridge after the page loaded and fires
    // WeixinJSBridgeReady; this stub does the same and records every call.
    let calls = page
        .execute(
            r#"
            window.__calls = [];
            window.WeixinJSBridge = {
              invoke: function (method, params, callback) {
                window.__calls.push({ method: method, params: params });
              }
            };
            document.dispatchEvent(new Event("WeixinJSBridgeReady"));
            return window.__calls;
            "#,
            vec![],
        )
        .await
        .unwrap();
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["method"], "getBrandWCPayRequest");
    assert_eq!(calls[0]["params"], expected);
    // WeChat's own names, exactly these six.
    let mut keys: Vec<&str> = calls[0]["params"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "appId",
            "nonceStr",
            "package",
            "paySign",
            "signType",
            "timeStamp"
        ]
    );
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_order_page_turns_to_paid_without_a_reload() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let id = buy(&running.url, "cookie").await;
    let browser = browser().await;
    let page = &browser.client;
    page.goto(&format!("{}/orders/{id}", running.url))
        .await
        .unwrap();
    let status = page.find(Locator::Id("status")).await.unwrap();
    assert_eq!(
        status.attr("data-state").await.unwrap().as_deref(),
        Some("pending")
    );
    // Marked so that a reload would be noticed: a reloaded page loses it.
    page.execute("window.__not_reloaded = true;", vec![])
        .await
        .unwrap();

    // The payer pays elsewhere (on their phone); the notification reaches the shop.
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    running.sandbox.pay(&aoid).await.unwrap();
    page.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#status[data-state='paid']"))
        .await
        .expect("the page turns to paid by itself");
    let same_page = page
        .execute("return window.__not_reloaded === true;", vec![])
        .await
        .unwrap();
    assert_eq!(same_page, serde_json::Value::Bool(true));
    browser.client.close().await.unwrap();
}

/// Where the screenshots go: `target/screenshots/` of this checkout.
fn screenshots() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(page: &fantoccini::Client, name: &str) {
    let png = page.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// The page's visible text, as the payer reads it.
async fn visible_text(page: &fantoccini::Client) -> String {
    page.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Nothing on the page is wider than the screen.
async fn assert_fits(page: &fantoccini::Client, what: &str) {
    let fits = page
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (content, screen) = (fits[0].as_u64().unwrap(), fits[1].as_u64().unwrap());
    assert!(
        content <= screen,
        "{what} is {content} px wide on a {screen} px screen"
    );
}

/// Waits for an element, across the page's own navigations (a search that a navigation
/// interrupts is simply made again).
async fn wait_for(page: &fantoccini::Client, css: &str) -> fantoccini::elements::Element {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match page.find(Locator::Css(css)).await {
            Ok(element) => return element,
            Err(error) if tokio::time::Instant::now() >= deadline => {
                panic!("{css} never appeared: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The order number of the order page or pay page the browser is on.
async fn order_id(page: &fantoccini::Client) -> String {
    let url = page.current_url().await.unwrap();
    let path = url.path().trim_start_matches("/orders/");
    path.trim_end_matches("/pay").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_purchase_on_a_phone_from_the_home_page_to_a_paid_order() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let browser = phone().await;
    let page = &browser.client;

    page.goto(&format!("{}/", running.url)).await.unwrap();
    let home = visible_text(page).await;
    for text in ["小咖啡馆", "拿铁咖啡 Latte", "¥18.00", "乌龙茶", "购买 Buy"] {
        assert!(
            home.contains(text),
            "{text:?} is not on the home page: {home}"
        );
    }
    assert_fits(page, "the home page").await;
    shot(page, "phone-1-home").await;

    page.find(Locator::Id("buy-latte"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let pay = wait_for(page, "#xorpay-sandbox-pay").await;
    let paying = visible_text(page).await;
    for text in ["拿铁咖啡 Latte", "18.00", "订单号"] {
        assert!(
            paying.contains(text),
            "{text:?} is not on the pay page: {paying}"
        );
    }
    assert_fits(page, "the pay page").await;
    shot(page, "phone-2-pay").await;
    pay.click().await.unwrap();

    let status = wait_for(page, "#status[data-state='paid']").await;
    assert_eq!(status.text().await.unwrap(), "已支付 Paid");
    let order = visible_text(page).await;
    for text in ["拿铁咖啡 Latte", "¥18.00", "已支付 Paid", "继续购物"] {
        assert!(
            order.contains(text),
            "{text:?} is not on the order page: {order}"
        );
    }
    assert!(
        !order.contains("重新支付"),
        "a paid order offers no payment: {order}"
    );
    assert_fits(page, "the order page").await;
    shot(page, "phone-3-paid").await;
    let id = order_id(page).await;
    demo_shop::delivered_once(&running.shop, &id).await;
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_payment_can_be_made_again() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let browser = phone().await;
    let page = &browser.client;
    page.goto(&format!("{}/buy/tea", running.url))
        .await
        .unwrap();
    wait_for(page, "#xorpay-sandbox-cancel")
        .await
        .click()
        .await
        .unwrap();

    // Back on the order page: it says so, and offers to pay again.
    let notice = wait_for(page, "#result").await;
    assert!(notice.text().await.unwrap().contains("已取消支付"));
    let status = page.find(Locator::Id("status")).await.unwrap();
    assert_eq!(
        status.attr("data-state").await.unwrap().as_deref(),
        Some("pending")
    );
    let again = page.find(Locator::Id("pay-again")).await.unwrap();
    assert!(again.is_displayed().await.unwrap());
    assert_eq!(again.text().await.unwrap(), "重新支付 Pay again");
    assert_fits(page, "the cancelled order page").await;
    shot(page, "phone-4-cancelled").await;
    again.click().await.unwrap();

    wait_for(page, "#xorpay-sandbox-pay")
        .await
        .click()
        .await
        .unwrap();
    wait_for(page, "#status[data-state='paid']").await;
    let id = order_id(page).await;
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    assert_eq!(
        running.sandbox.order(&aoid).unwrap().state,
        xorpay_sandbox::OrderState::Success
    );
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_order_says_so_and_the_page_stops_asking() {
    let running = ShopSetup::new(sandbox(Duration::from_secs(60)).await)
        .lifetime(2)
        .start()
        .await;
    let browser = phone().await;
    let page = &browser.client;
    page.goto(&format!("{}/buy/cookie", running.url))
        .await
        .unwrap();
    wait_for(page, "#xorpay-sandbox-pay").await;
    let id = order_id(page).await;
    // The payer walks away; the order page is left open.
    page.goto(&format!("{}/orders/{id}", running.url))
        .await
        .unwrap();
    let status = wait_for(page, "#status[data-state='expired']").await;
    assert_eq!(status.text().await.unwrap(), "已过期 Expired");
    let again = page.find(Locator::Id("pay-again")).await.unwrap();
    assert!(
        !again.is_displayed().await.unwrap(),
        "no payment for an expired order"
    );
    shot(page, "phone-5-expired").await;
    let polls = || async {
        page.execute("return window.__statusPolls;", vec![])
            .await
            .unwrap()
            .as_u64()
            .unwrap()
    };
    let before = polls().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        polls().await,
        before,
        "the page kept asking after the order expired"
    );
    // The pay page of an expired order sends the payer to the order page.
    page.goto(&format!("{}/orders/{id}/pay", running.url))
        .await
        .unwrap();
    wait_for(page, "#status[data-state='expired']").await;
    browser.client.close().await.unwrap();
}

/// A sandbox that keeps its orders in `dir`, on `listen` (port 0: any).
async fn keeping_sandbox(
    dir: &std::path::Path,
    listen: std::net::SocketAddr,
) -> xorpay_sandbox::Sandbox {
    xorpay_sandbox::Sandbox::builder()
        .secret(support::SECRET)
        .retry_unit(Duration::from_millis(50))
        .state_file(dir.join("sandbox.json"))
        .listen(listen)
        .build()
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_ordering_and_paying_loses_nothing() {
    let dir = support::TempDir::new("shop-restart");
    let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let first = keeping_sandbox(dir.path(), any).await;
    let sandbox_addr: std::net::SocketAddr = first
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let running = ShopSetup::new(first).start().await;
    let id = buy(&running.url, "latte").await;

    // Both processes restart: the shop on its database and address, the sandbox on its
    // state file and address.
    let (db, addr) = running.stop().await;
    let second = keeping_sandbox(dir.path(), sandbox_addr).await;
    let running = ShopSetup::new(second).again(db, addr).start().await;

    let browser = phone().await;
    let page = &browser.client;
    page.goto(&format!("{}/orders/{id}/pay", running.url))
        .await
        .unwrap();
    wait_for(page, "#xorpay-sandbox-pay")
        .await
        .click()
        .await
        .unwrap();
    wait_for(page, "#status[data-state='paid']").await;
    demo_shop::delivered_once(&running.shop, &id).await;
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_from_the_admin_page_on_a_phone() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let id = buy(&running.url, "latte").await;
    let aoid = running.sandbox.order_by_order_id(&id).unwrap().aoid;
    running.sandbox.pay(&aoid).await.unwrap();
    let sandbox = &running.sandbox;
    support::eventually("the order to be success at XorPay", async || {
        sandbox.order(&aoid).unwrap().state == xorpay_sandbox::OrderState::Success
    })
    .await;

    let browser = phone().await;
    let page = &browser.client;
    page.goto(&format!("{}/admin", running.url)).await.unwrap();
    let admin = visible_text(page).await;
    for text in ["订单管理", "已支付 Paid", "拿铁咖啡 Latte", "下单 ordered"] {
        assert!(
            admin.contains(text),
            "{text:?} is not on the admin page: {admin}"
        );
    }
    let form = format!("form[action^='/admin/orders/{id}/refund']");
    let amount = page
        .find(Locator::Css(&format!("{form} input[name='amount']")))
        .await
        .unwrap();
    amount.clear().await.unwrap();
    amount.send_keys("5.00").await.unwrap();
    page.find(Locator::Css(&format!("{form} button")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let line = wait_for(page, "ul.refunds li").await;
    assert!(line.text().await.unwrap().contains("¥5.00 已退款 made"));
    assert_fits(page, "the admin page").await;
    shot(page, "phone-6-admin").await;
    assert_eq!(running.sandbox.order(&aoid).unwrap().refunded_fen, 500);
    browser.client.close().await.unwrap();
}
