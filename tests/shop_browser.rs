//! The demo shop in a real browser: Debian's Chromium, headless, driven through
//! chromedriver. `scripts/test.sh` installs both when they are missing.

mod support;

use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use support::{app, buy, sandbox, start_shop};
use xorpay::order::StoredOrder;

/// A headless Chromium under its own chromedriver, both ended on drop.
struct Browser {
    client: fantoccini::Client,
    _driver: tokio::process::Child,
    _profile: support::tempdir::Dir,
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
    let profile = support::tempdir::Dir::new("chromium");
    let capabilities = serde_json::json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": executable("chromium"),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
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
async fn a_whole_purchase_in_the_browser_ends_on_a_paid_order_page() {
    let running = start_shop(sandbox(Duration::from_secs(60)).await, None).await;
    let browser = browser().await;
    let page = &browser.client;

    page.goto(&format!("{}/", running.url)).await.unwrap();
    page.find(Locator::Id("buy-latte"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Through XorPay's openid redirect to the pay page, where the sandbox's stand-in for
    // WeixinJSBridge asks the payer to confirm.
    let pay = page
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Id("xorpay-sandbox-pay"))
        .await
        .expect("the stand-in's pay button");
    let pay_url = page.current_url().await.unwrap();
    assert!(pay_url.path().ends_with("/pay"), "{pay_url}");
    pay.click().await.unwrap();

    // The bridge reports ok; the order page turns to paid once the notification is stored.
    let status = page
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css("#status[data-state='paid']"))
        .await
        .expect("the order page shows the order paid");
    assert!(status.text().await.unwrap().contains("已支付"));
    let order_url = page.current_url().await.unwrap();
    assert_eq!(order_url.query(), Some("result=ok"));

    let id = order_url.path().trim_start_matches("/orders/").to_owned();
    let stored = running.shop.payments().order(&id).await.unwrap();
    assert!(matches!(stored, Some(StoredOrder::Paid(_))));
    assert_eq!(running.shop.deliveries_of(&id), 1);
    browser.client.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_wechat_the_page_invokes_the_bridge_with_the_orders_six_parameters() {
    // The shop as it runs against the real XorPay: no stand-in on the page.
    let running = start_shop(
        sandbox(Duration::from_secs(60)).await,
        Some(app::Bridge::WeChat),
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
