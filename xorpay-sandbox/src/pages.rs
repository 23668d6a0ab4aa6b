//! What the sandbox shows in a browser: the cashier's payment page (docs/protocol.md §4.2), the
//! stand-in for WeChat's `WeixinJSBridge` (§3.3), and the stand-in for the phone that scans a
//! QR order's code.
//!
//! **The bridge stand-in** (`GET /_sandbox/jsbridge.js`) lets an ordinary desktop browser
//! complete a JSAPI payment. It defines `window.WeixinJSBridge.invoke(method, params,
//! callback)` and then dispatches `WeixinJSBridgeReady` on `document`, like WeChat's in-app
//! browser, so a page's own bridge code works whichever of the two scripts runs first. For
//! `getBrandWCPayRequest` it looks the order up, shows an overlay with the amount and two
//! buttons, `#xorpay-sandbox-pay` (确认支付 Pay) and `#xorpay-sandbox-cancel` (取消 Cancel),
//! and answers through the callback exactly as the real bridge does: `{err_msg:
//! "get_brand_wcpay_request:ok"}` once the sandbox accepted the payment, `…:cancel`, or
//! `…:fail`. It talks to the sandbox by absolute URL (the page usually comes from the shop's
//! origin), which is why the bridge routes answer CORS.
//!
//! **The cashier page** shows the product, the amount and a pay button that goes through the
//! same bridge. Every merchant value is HTML-escaped, and the values given to scripts are
//! JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped, so no product name can inject markup.
//!
//! This module renders text; it does not decide whether a payment is accepted (the bridge
//! route does, after checking `paySign`).

use serde_json::{Value, json};
use xorpay_core::Price;
pub(crate) use xorpay_core::html::{embed_json, escape as html_escape};

use crate::orders::OrderView;

/// Only `http(s)://` URLs may be navigated to; anything else (`javascript:` …) is dropped.
fn web_url(url: Option<&str>) -> Value {
    match url {
        Some(url)
            if ["http://", "https://"].iter().any(|scheme| {
                url.get(..scheme.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
            }) =>
        {
            Value::String(url.to_owned())
        }
        _ => Value::Null,
    }
}

/// The amount with two decimals.
fn amount(order: &OrderView) -> String {
    Price::from_fen(order.price_fen)
        .map(|price| price.to_wire().to_string())
        .unwrap_or_else(|_| order.price.clone())
}

/// A page about one order: its name, amount and number, a pay button and a line for the
/// result; `data` (JSON, escaped for a script element) and `script` follow for the page's
/// own behaviour. The cashier page and the scanning phone are both this.
fn order_page(order: &OrderView, page: &Page<'_>, data: &Value) -> String {
    let name = html_escape(&order.name);
    let order_id = html_escape(&order.order_id);
    let amount = amount(order);
    let data = embed_json(data);
    let Page {
        title,
        button_id,
        button,
        script,
    } = page;
    format!(
        r##"<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · sandbox</title>
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; background: #f2f2f2; color: #222; }}
main {{ max-width: 28rem; margin: 3rem auto; padding: 2rem; background: #fff; border-radius: 12px; text-align: center; }}
.brand {{ color: #888; font-size: .9rem; }}
.amount {{ font-size: 2.4rem; font-weight: 600; margin: .5rem 0 1.5rem; }}
button {{ width: 100%; padding: .9rem; border: 0; border-radius: 8px; background: #07c160; color: #fff; font-size: 1.1rem; }}
button:disabled {{ background: #9ed8b5; }}
</style>
</head>
<body>
<main>
<p class="brand">{title} · sandbox</p>
<h1 id="xorpay-sandbox-name">{name}</h1>
<p class="amount" id="xorpay-sandbox-amount">¥{amount}</p>
<p class="brand">订单号 Order {order_id}</p>
<button id="{button_id}" type="button">{button}</button>
<p id="xorpay-sandbox-result" role="status"></p>
</main>
<script type="application/json" id="xorpay-sandbox-order">{data}</script>
{script}
</body>
</html>
"##
    )
}

/// What differs between two order pages.
struct Page<'a> {
    title: &'a str,
    button_id: &'a str,
    button: &'a str,
    /// The page's scripts, after the order's data.
    script: &'a str,
}

/// The cashier's payment page for a JSAPI order: pays through the bridge stand-in.
pub(crate) fn cashier(order: &OrderView) -> String {
    let data = json!({
        "params": order.info,
        "return_url": web_url(order.return_url.as_deref()),
        "cancel_url": web_url(order.cancel_url.as_deref()),
    });
    let page = Page {
        title: "XorPay 收银台",
        button_id: "xorpay-sandbox-cashier-pay",
        button: "立即支付 Pay",
        script: r#"<script src="/_sandbox/jsbridge.js"></script>
<script>
(function () {
  "use strict";
  var order = JSON.parse(document.getElementById("xorpay-sandbox-order").textContent);
  var button = document.getElementById("xorpay-sandbox-cashier-pay");
  var result = document.getElementById("xorpay-sandbox-result");
  button.addEventListener("click", function () {
    button.disabled = true;
    WeixinJSBridge.invoke("getBrandWCPayRequest", order.params, function (res) {
      var message = (res && res.err_msg) || "";
      if (message === "get_brand_wcpay_request:ok") {
        result.textContent = "支付成功 Paid";
        if (order.return_url) { window.location.href = order.return_url; }
      } else if (message === "get_brand_wcpay_request:cancel") {
        result.textContent = "已取消 Cancelled";
        button.disabled = false;
        if (order.cancel_url) { window.location.href = order.cancel_url; }
      } else {
        result.textContent = "支付失败 Failed";
        button.disabled = false;
      }
    });
  });
})();
</script>"#,
    };
    order_page(order, &page, &data)
}

/// The phone that scans a QR order's code: the amount and a pay button. Paying posts to
/// `/_sandbox/orders/{aoid}/pay` on the sandbox's own origin.
pub(crate) fn scan(order: &OrderView) -> String {
    let page = Page {
        title: "扫码付款 Scan to pay",
        button_id: "xorpay-sandbox-scan-pay",
        button: "确认支付 Pay",
        script: r#"<script>
(function () {
  "use strict";
  var order = JSON.parse(document.getElementById("xorpay-sandbox-order").textContent);
  var button = document.getElementById("xorpay-sandbox-scan-pay");
  var result = document.getElementById("xorpay-sandbox-result");
  button.addEventListener("click", function () {
    button.disabled = true;
    fetch("/_sandbox/orders/" + encodeURIComponent(order.aoid) + "/pay", { method: "POST" })
      .then(function (response) {
        result.textContent = response.ok ? "支付成功 Paid" : "支付失败 Failed";
        button.disabled = response.ok;
      })
      .catch(function () {
        result.textContent = "支付失败 Failed";
        button.disabled = false;
      });
  });
})();
</script>"#,
    };
    order_page(order, &page, &json!({ "aoid": order.aoid }))
}

/// The `WeixinJSBridge` stand-in. `base_url` is the sandbox's own origin, used when the
/// script cannot tell where it was loaded from.
pub(crate) fn bridge_script(base_url: &str) -> String {
    let base_url = embed_json(&Value::String(base_url.to_owned()));
    format!(
        r##"/* xorpay-sandbox: a stand-in for WeChat's WeixinJSBridge. Never served by XorPay. */
(function () {{
  "use strict";
  var sandbox = (function () {{
    try {{
      var script = document.currentScript;
      if (script && script.src) {{ return new URL(script.src).origin; }}
    }} catch (e) {{}}
    return {base_url};
  }})();
  var OK = "get_brand_wcpay_request:ok";
  var CANCEL = "get_brand_wcpay_request:cancel";
  var FAIL = "get_brand_wcpay_request:fail";

  function answer(callback, message) {{
    if (typeof callback !== "function") {{ return; }}
    // A throwing page callback must not turn into a second answer.
    try {{ callback({{ err_msg: message }}); }} catch (e) {{ setTimeout(function () {{ throw e; }}, 0); }}
  }}

  function whenBody(fn) {{
    if (document.body) {{ fn(); }}
    else {{ document.addEventListener("DOMContentLoaded", fn); }}
  }}

  function element(tag, id, text, style) {{
    var node = document.createElement(tag);
    if (id) {{ node.id = id; }}
    if (text) {{ node.textContent = text; }}
    for (var key in style) {{ node.style[key] = style[key]; }}
    return node;
  }}

  function overlay(order, choose) {{
    var shade = element("div", "xorpay-sandbox-overlay", null, {{
      position: "fixed", left: "0", top: "0", right: "0", bottom: "0", zIndex: "2147483647",
      background: "rgba(0,0,0,.5)", display: "flex", alignItems: "center", justifyContent: "center"
    }});
    var box = element("div", null, null, {{
      background: "#fff", borderRadius: "12px", padding: "24px", minWidth: "260px",
      textAlign: "center", fontFamily: "system-ui, sans-serif", color: "#222"
    }});
    box.appendChild(element("p", null, "微信支付 · sandbox", {{ color: "#888", margin: "0 0 8px" }}));
    box.appendChild(element("p", "xorpay-sandbox-name", order.name, {{ margin: "0" }}));
    box.appendChild(element("p", "xorpay-sandbox-amount", "¥" + order.amount, {{ fontSize: "32px", margin: "8px 0 20px" }}));
    var pay = element("button", "xorpay-sandbox-pay", "确认支付 Pay", {{
      display: "block", width: "100%", padding: "12px", border: "0", borderRadius: "8px",
      background: "#07c160", color: "#fff", fontSize: "16px", marginBottom: "8px"
    }});
    var cancel = element("button", "xorpay-sandbox-cancel", "取消 Cancel", {{
      display: "block", width: "100%", padding: "12px", border: "0", borderRadius: "8px",
      background: "#eee", color: "#222", fontSize: "16px"
    }});
    pay.type = "button";
    cancel.type = "button";
    box.appendChild(pay);
    box.appendChild(cancel);
    shade.appendChild(box);
    var chosen = false;
    function pick(choice) {{
      if (chosen) {{ return; }}
      chosen = true;
      pay.disabled = true;
      cancel.disabled = true;
      choose(choice, function () {{ if (shade.parentNode) {{ shade.parentNode.removeChild(shade); }} }});
    }}
    pay.addEventListener("click", function () {{ pick("pay"); }});
    cancel.addEventListener("click", function () {{ pick("cancel"); }});
    document.body.appendChild(shade);
  }}

  function getBrandWCPayRequest(params, callback) {{
    params = params || {{}};
    var prepayId = String(params["package"] || "").replace(/^prepay_id=/, "");
    fetch(sandbox + "/_sandbox/jsapi/prepay/" + encodeURIComponent(prepayId))
      .then(function (response) {{ return response.ok ? response.json() : Promise.reject(response.status); }})
      .then(function (order) {{
        whenBody(function () {{
          overlay(order, function (choice, close) {{
            if (choice === "cancel") {{ close(); answer(callback, CANCEL); return; }}
            fetch(sandbox + "/_sandbox/jsapi/pay", {{
              method: "POST",
              headers: {{ "Content-Type": "application/json" }},
              body: JSON.stringify({{
                appId: params.appId, timeStamp: params.timeStamp, nonceStr: params.nonceStr,
                "package": params["package"], signType: params.signType, paySign: params.paySign
              }})
            }})
              .then(function (response) {{
                return response.json().then(function (body) {{ return response.ok && body.err_msg === OK; }});
              }})
              .then(function (paid) {{ close(); answer(callback, paid ? OK : FAIL); }},
                    function () {{ close(); answer(callback, FAIL); }});
          }});
        }});
      }}, function () {{ answer(callback, FAIL); }});
  }}

  var bridge = {{
    invoke: function (method, params, callback) {{
      if (method === "getBrandWCPayRequest") {{ getBrandWCPayRequest(params, callback); }}
      else {{ answer(callback, method + ":fail"); }}
    }},
    on: function () {{}},
    call: function () {{}}
  }};
  window.WeixinJSBridge = bridge;
  var ready;
  try {{ ready = new Event("WeixinJSBridgeReady"); }}
  catch (e) {{ ready = document.createEvent("Event"); ready.initEvent("WeixinJSBridgeReady", false, false); }}
  document.dispatchEvent(ready);
}})();
"##
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            html_escape(r#"Coffee & Cake <b>"'"#),
            "Coffee &amp; Cake &lt;b&gt;&quot;&#39;"
        );
        assert_eq!(
            embed_json(&json!("</script>&\u{2028}")),
            r#""\u003c/script\u003e\u0026\u2028""#
        );
        assert_eq!(web_url(Some("javascript:alert(1)")), Value::Null);
        assert_eq!(
            web_url(Some("HTTPS://shop.test/ok")),
            json!("HTTPS://shop.test/ok")
        );
        assert_eq!(web_url(None), Value::Null);
    }
}
