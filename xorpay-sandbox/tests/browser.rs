//! The browser side, run in a real JavaScript engine (Node.js) against the running sandbox:
//! the `WeixinJSBridge` stand-in completes a JSAPI payment started by the core's page script
//! (whichever script loads first), cancels, and the cashier page pays through it. Also the
//! bridge routes' CORS and their checks.
//!
//! The DOM is a small recording stand-in; `fetch` is Node's own, so every request really goes
//! to the sandbox over HTTP.

#[macro_use]
mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Endpoint, Receiver, Req, SECRET, client, create, get};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use xorpay_core::JsapiParams;
use xorpay_core::jsapi::BridgeScript;
use xorpay_sandbox::{OrderState, Sandbox};

/// A fake DOM whose overlay buttons get clicked (`CHOICE`), and a reporter.
const HARNESS: &str = r#"
const overlays = [];
const results = [];
class El extends EventTarget {
  constructor(tag) {
    super();
    this.tagName = String(tag).toUpperCase();
    this.style = {}; this.children = []; this.parentNode = null;
    this.id = ""; this.textContent = ""; this.disabled = false; this.type = "";
  }
  appendChild(child) {
    child.parentNode = this;
    this.children.push(child);
    if (attached(this)) { mounted(child); }
    return child;
  }
  removeChild(child) {
    this.children = this.children.filter((c) => c !== child);
    child.parentNode = null;
    return child;
  }
  click() { if (!this.disabled) { this.dispatchEvent(new Event("click")); } }
  find(id) {
    if (this.id === id) { return this; }
    for (const c of this.children) { const found = c.find(id); if (found) { return found; } }
    return null;
  }
  texts() { return [this.textContent, ...this.children.flatMap((c) => c.texts())].filter(Boolean); }
}
function attached(el) { while (el) { if (el === document.body) { return true; } el = el.parentNode; } return false; }
function mounted(el) {
  if (el.find("xorpay-sandbox-pay")) {
    overlays.push(el.texts());
    const id = CHOICE === "pay" ? "xorpay-sandbox-pay" : "xorpay-sandbox-cancel";
    setTimeout(() => el.find(id).click(), 0);
  }
}
class Doc extends EventTarget {
  constructor() { super(); this.body = new El("body"); }
  createElement(tag) { return new El(tag); }
  getElementById(id) { return this.body.find(id); }
}
globalThis.window = globalThis;
globalThis.document = new Doc();
window.location = { href: "/shop/pay" };
function report(extra) {
  process.stdout.write(JSON.stringify({
    results, overlays, href: window.location.href,
    leftInBody: document.body.children.filter((c) => c.id === "xorpay-sandbox-overlay").length,
    extra: extra || null,
  }));
  process.exit(0);
}
document.addEventListener("xorpay:jsapi-result", (e) => { results.push(e.detail); setTimeout(report, 50); });
setTimeout(() => report({ timeout: true }), 10000);
"#;

async fn node(program: String) -> Value {
    let mut child = tokio::process::Command::new("node")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node must be installed for this test (scripts/test.sh installs it)");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(program.as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("node finished")
        .unwrap();
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "node printed no json ({e}): {} / {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// A JSAPI order of 12.30 with an openid from the openid route; returns (aoid, params).
async fn jsapi_order(
    sandbox: &Sandbox,
    receiver: &Receiver,
    order_id: &str,
) -> (String, JsapiParams) {
    let redirect = client()
        .get(format!(
            "{}/api/openid/{}?callback=http%3A%2F%2Fshop.test%2Fpay%3Fa%3D1",
            sandbox.base_url(),
            sandbox.aid()
        ))
        .send()
        .await
        .unwrap();
    let location = redirect.headers()["location"].to_str().unwrap().to_owned();
    let openid = location.split("&openid=").nth(1).unwrap();
    let req = Req::new(Endpoint::Pay, "jsapi", order_id)
        .set("name", "Coffee & Cake <b>")
        .set("price", "12.30")
        .set("openid", openid)
        .set("notify_url", &receiver.url)
        .signed(SECRET);
    let answer = req.send(sandbox).await.json();
    assert_eq!(answer["status"], "ok", "{answer}");
    let params: JsapiParams = serde_json::from_value(answer["info"].clone()).unwrap();
    (answer["aoid"].as_str().unwrap().to_owned(), params)
}

async fn bridge_script(sandbox: &Sandbox) -> String {
    let answer = get(&format!("{}/_sandbox/jsbridge.js", sandbox.base_url())).await;
    assert_eq!(answer.status, 200);
    assert!(answer.content_type.starts_with("text/javascript"));
    answer.body
}

#[tokio::test]
async fn the_bridge_completes_a_jsapi_payment_whichever_script_loads_first() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let bridge = bridge_script(&sandbox).await;
    for (index, bridge_first) in [true, false].into_iter().enumerate() {
        let (aoid, params) = jsapi_order(&sandbox, &receiver, &format!("js-{index}")).await;
        let page = BridgeScript::new(&params).to_script();
        let scripts = if bridge_first {
            format!("{bridge}\n{page}")
        } else {
            format!("{page}\n{bridge}")
        };
        let report = node(format!("const CHOICE = 'pay';\n{HARNESS}\n{scripts}")).await;
        assert_eq!(report["results"][0]["result"], "ok", "{report}");
        assert_eq!(report["results"][0]["errMsg"], "get_brand_wcpay_request:ok");
        // The overlay showed the amount and the name, and was removed.
        let overlay = report["overlays"][0].to_string();
        assert!(overlay.contains("¥12.30"), "{overlay}");
        assert!(overlay.contains("Coffee & Cake <b>"), "{overlay}");
        assert!(overlay.contains("确认支付 Pay") && overlay.contains("取消 Cancel"));
        assert_eq!(report["leftInBody"], 0);
        // The sandbox really was paid, and the notification followed.
        let order = sandbox
            .wait_for(&aoid, Duration::from_secs(10), |o| {
                o.state == OrderState::Success
            })
            .await
            .unwrap();
        assert_eq!(order.state, OrderState::Success);
    }
}

#[tokio::test]
async fn cancel_leaves_the_order_unpaid() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let (aoid, params) = jsapi_order(&sandbox, &receiver, "js-cancel").await;
    let page = BridgeScript::new(&params)
        .result_url("/orders/42")
        .unwrap()
        .to_script();
    let bridge = bridge_script(&sandbox).await;
    let report = node(format!(
        "const CHOICE = 'cancel';\n{HARNESS}\n{bridge}\n{page}"
    ))
    .await;
    assert_eq!(report["results"][0]["result"], "cancel", "{report}");
    assert_eq!(report["href"], "/orders/42?result=cancel");
    assert_eq!(sandbox.order(&aoid).unwrap().state, OrderState::New);
}

#[tokio::test]
async fn an_expired_order_fails_in_the_bridge() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let (aoid, params) = jsapi_order(&sandbox, &receiver, "js-expired").await;
    sandbox.advance_clock(Duration::from_secs(7200));
    let page = BridgeScript::new(&params).to_script();
    let bridge = bridge_script(&sandbox).await;
    let report = node(format!(
        "const CHOICE = 'pay';\n{HARNESS}\n{bridge}\n{page}"
    ))
    .await;
    assert_eq!(report["results"][0]["result"], "fail", "{report}");
    assert_eq!(sandbox.order(&aoid).unwrap().state, OrderState::Expire);
}

/// The text between `start` and the next `</script>`.
fn between<'a>(html: &'a str, start: &str) -> &'a str {
    let from = html.rfind(start).unwrap() + start.len();
    let to = from + html[from..].find("</script>").unwrap();
    &html[from..to]
}

#[tokio::test]
async fn the_cashier_page_pays_through_the_bridge() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let req = Req::new(Endpoint::Cashier, "jsapi", "cashier-1")
        .set("name", "Coffee & Cake <b>")
        .set("price", "12.30")
        .set("notify_url", &receiver.url)
        .set("return_url", "https://shop.test/paid?o=1")
        .set("cancel_url", "javascript:alert(1)")
        .signed(SECRET);
    // A browser navigates there with a GET.
    let answer = get(&format!(
        "{}?{}",
        req.url(&sandbox, sandbox.aid()),
        req.body()
    ))
    .await;
    assert_eq!(answer.code(), "html");
    let html = answer.body;
    assert!(html.contains("Coffee &amp; Cake &lt;b&gt;"));
    assert!(!html.contains("Cake <b>"));
    assert!(html.contains("¥12.30"));
    assert!(html.contains(r#"id="xorpay-sandbox-cashier-pay""#));
    assert!(html.contains(r#"<script src="/_sandbox/jsbridge.js"></script>"#));
    let data = between(
        &html,
        r#"<script type="application/json" id="xorpay-sandbox-order">"#,
    );
    let order_json: Value = serde_json::from_str(data).unwrap();
    assert_eq!(order_json["return_url"], "https://shop.test/paid?o=1");
    assert_eq!(
        order_json["cancel_url"],
        Value::Null,
        "a javascript: URL is dropped"
    );
    let inline = between(&html, "<script>\n");

    let order = sandbox.order_by_order_id("cashier-1").unwrap();
    assert!(
        order.openid.is_some(),
        "the cashier obtains the openid itself"
    );
    // The page's own elements, then the bridge and the page script, then a click.
    let prelude = format!(
        r#"
for (const [id, tag] of [["xorpay-sandbox-order", "script"], ["xorpay-sandbox-cashier-pay", "button"], ["xorpay-sandbox-result", "p"]]) {{
  const el = document.createElement(tag); el.id = id; document.body.appendChild(el);
}}
document.getElementById("xorpay-sandbox-order").textContent = {data_literal};
setInterval(() => {{
  const text = document.getElementById("xorpay-sandbox-result").textContent;
  if (text) {{ report({{ result: text }}); }}
}}, 10);
"#,
        data_literal = serde_json::to_string(data).unwrap()
    );
    let bridge = bridge_script(&sandbox).await;
    let program = format!(
        "const CHOICE = 'pay';\n{HARNESS}\n{prelude}\n{bridge}\n{inline}\ndocument.getElementById('xorpay-sandbox-cashier-pay').click();"
    );
    let report = node(program).await;
    assert_eq!(report["extra"]["result"], "支付成功 Paid", "{report}");
    assert_eq!(report["href"], "https://shop.test/paid?o=1");
    let order = sandbox
        .wait_for(&order.aoid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(order.state, OrderState::Success);
}

#[tokio::test]
async fn bridge_routes_answer_cors_and_check_the_payment() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let base = sandbox.base_url().to_owned();
    let http = client();

    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}/_sandbox/jsapi/pay"),
        )
        .header("origin", "http://shop.test:3000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );

    let (aoid, params) = jsapi_order(&sandbox, &receiver, "cors").await;
    let prepay_id = params.package.strip_prefix("prepay_id=").unwrap();
    let lookup = http
        .get(format!("{base}/_sandbox/jsapi/prepay/{prepay_id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.headers()["access-control-allow-origin"], "*");
    let lookup: Value = lookup.json().await.unwrap();
    assert_eq!(lookup["amount"], "12.30");
    assert_eq!(lookup["aoid"], aoid.as_str());
    let missing = http
        .get(format!("{base}/_sandbox/jsapi/prepay/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let pay = |body: Value| {
        http.post(format!("{base}/_sandbox/jsapi/pay"))
            .json(&body)
            .send()
    };
    let mut tampered = serde_json::to_value(&params).unwrap();
    tampered["paySign"] = Value::from("0".repeat(32));
    let refused = pay(tampered).await.unwrap();
    assert_eq!(refused.status(), 400);
    assert_eq!(refused.headers()["access-control-allow-origin"], "*");
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["err_msg"], "get_brand_wcpay_request:fail");
    // Changing a signed field breaks paySign too.
    let mut other_time = serde_json::to_value(&params).unwrap();
    other_time["timeStamp"] = Value::from("1");
    assert_eq!(pay(other_time).await.unwrap().status(), 400);
    let mut unknown = serde_json::to_value(&params).unwrap();
    unknown["package"] = Value::from("prepay_id=wx0");
    assert_eq!(pay(unknown).await.unwrap().status(), 404);
    let not_json = http
        .post(format!("{base}/_sandbox/jsapi/pay"))
        .body("appId=wx")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    assert_eq!(sandbox.order(&aoid).unwrap().state, OrderState::New);

    // Genuine parameters (uppercase paySign, as WeChat's) pay; a second time is refused.
    let paid: Value = pay(serde_json::to_value(&params).unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(paid["err_msg"], "get_brand_wcpay_request:ok");
    assert_ne!(sandbox.order(&aoid).unwrap().state, OrderState::New);
    let again = pay(serde_json::to_value(&params).unwrap()).await.unwrap();
    assert_eq!(again.status(), 409);

    // A native order has no prepay_id: the bridge cannot pay it, even when the package names
    // the prepay_id a JSAPI order with its aoid would have had.
    let native = create(&sandbox, &Req::pay("native", "cors-native")).await;
    let mut guessed = serde_json::to_value(&params).unwrap();
    guessed["package"] = Value::from(format!("prepay_id=wx{native}"));
    assert_eq!(pay(guessed).await.unwrap().status(), 404);
    assert_eq!(sandbox.order(&native).unwrap().state, OrderState::New);
}
