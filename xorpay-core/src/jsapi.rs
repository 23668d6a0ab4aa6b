//! The JSAPI pay page: the script that hands a JSAPI order's parameters to WeChat's
//! `WeixinJSBridge` (docs/protocol.md §3.3).
//!
//! WeChat's in-app browser injects `WeixinJSBridge` asynchronously. The script calls
//! `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)` at once if the bridge is
//! there, and otherwise waits for the `WeixinJSBridgeReady` event (with the `attachEvent`
//! fallback for old engines), as XorPay's and WeChat's docs prescribe.
//!
//! Every value is embedded as JSON with `<`, `>`, `&`, U+2028 and U+2029 escaped, so that no
//! parameter or URL can close the `<script>` element, open an HTML comment or break out of a
//! string, whatever it contains.
//!
//! The bridge's answer is only the browser's opinion (`get_brand_wcpay_request:ok` is "not
//! guaranteed reliable"): the page may move on, but an order is paid only when a verified
//! notification says so. This module renders text; it does not serve pages.

use crate::config::ConfigError;
use crate::response::JsapiParams;

/// Renders the `WeixinJSBridge` script for one JSAPI order.
///
/// When WeChat answers, the script dispatches a `xorpay:jsapi-result` event on `document`
/// whose `detail` is `{ "result": "ok" | "cancel" | "fail", "errMsg": … }`, and then, if a
/// result URL was given, navigates to it with `result=ok|cancel|fail` added to its query.
///
/// ```
/// use xorpay::{jsapi::BridgeScript, response::JsapiParams};
///
/// let params = JsapiParams {
///     app_id: "wx2421b1c4370ec43b".into(),
///     time_stamp: "1395712654".into(),
///     nonce_str: "e61463f8efa94090b1f366cccfbbb444".into(),
///     package: "prepay_id=u802345jgfjsdfgsdg888".into(),
///     sign_type: "MD5".into(),
///     pay_sign: "70EA570631E4BB79628FBCA90534C63F".into(),
/// };
/// let html = BridgeScript::new(&params).result_url("/orders/42")?.to_script_tag();
/// assert!(html.contains("getBrandWCPayRequest"));
/// assert!(html.starts_with("<script>"));
/// # Ok::<(), xorpay::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a BridgeScript does nothing until rendered"]
pub struct BridgeScript<'a> {
    params: &'a JsapiParams,
    result_url: Option<&'a str>,
    nonce: Option<&'a str>,
}

impl<'a> BridgeScript<'a> {
    /// A script for these parameters, which come unchanged from XorPay's create-order answer.
    pub fn new(params: &'a JsapiParams) -> BridgeScript<'a> {
        BridgeScript {
            params,
            result_url: None,
            nonce: None,
        }
    }

    /// Navigate here (with `result=…` added to the query) once WeChat answers.
    ///
    /// # Errors
    /// A [`ConfigError`] unless `url` is a same-site absolute path (`/orders/42`) or an
    /// `http://` or `https://` URL without whitespace or control characters. Anything else
    /// (`javascript:`, `//evil.example`, a relative path) could run script or leave the site.
    pub fn result_url(mut self, url: &'a str) -> Result<BridgeScript<'a>, ConfigError> {
        let same_site_path = url.starts_with('/') && !url.starts_with("//");
        let web_url = ["http://", "https://"].iter().any(|scheme| {
            url.get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        });
        let clean = !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\');
        if !(same_site_path || web_url) || !clean {
            return Err(ConfigError::new(
                "result_url",
                "it must be an absolute path such as /orders/42 or an http(s) URL",
            ));
        }
        self.result_url = Some(url);
        Ok(self)
    }

    /// A Content-Security-Policy nonce for the `<script>` tag. Only characters of base64 are
    /// kept; anything else is dropped rather than escaped.
    pub fn csp_nonce(mut self, nonce: &'a str) -> BridgeScript<'a> {
        self.nonce = Some(nonce);
        self
    }

    /// The JavaScript source, without a `<script>` tag.
    pub fn to_script(&self) -> String {
        let params = crate::html::embed_json(&serde_json::json!({
            "appId": self.params.app_id,
            "timeStamp": self.params.time_stamp,
            "nonceStr": self.params.nonce_str,
            "package": self.params.package,
            "signType": self.params.sign_type,
            "paySign": self.params.pay_sign,
        }));
        let result_urls = crate::html::embed_json(&match self.result_url {
            Some(url) => serde_json::json!({
                "ok": with_result(url, "ok"),
                "cancel": with_result(url, "cancel"),
                "fail": with_result(url, "fail"),
            }),
            None => serde_json::Value::Null,
        });
        format!(
            r#"(function () {{
  "use strict";
  var params = {params};
  var resultUrls = {result_urls};
  function finish(res) {{
    var message = (res && res.err_msg) || "";
    var result = message === "get_brand_wcpay_request:ok" ? "ok"
      : message === "get_brand_wcpay_request:cancel" ? "cancel" : "fail";
    var detail = {{ result: result, errMsg: message }};
    var event;
    if (typeof CustomEvent === "function") {{
      event = new CustomEvent("xorpay:jsapi-result", {{ detail: detail }});
    }} else {{
      event = document.createEvent("CustomEvent");
      event.initCustomEvent("xorpay:jsapi-result", false, false, detail);
    }}
    document.dispatchEvent(event);
    if (resultUrls !== null) {{
      window.location.href = resultUrls[result];
    }}
  }}
  function pay() {{
    WeixinJSBridge.invoke("getBrandWCPayRequest", params, finish);
  }}
  if (typeof WeixinJSBridge === "undefined") {{
    if (document.addEventListener) {{
      document.addEventListener("WeixinJSBridgeReady", pay, false);
    }} else if (document.attachEvent) {{
      document.attachEvent("WeixinJSBridgeReady", pay);
      document.attachEvent("onWeixinJSBridgeReady", pay);
    }}
  }} else {{
    pay();
  }}
}})();
"#
        )
    }

    /// The script inside a `<script>` element, with the CSP nonce if one was set.
    pub fn to_script_tag(&self) -> String {
        let nonce: Option<String> = self.nonce.map(|nonce| {
            nonce
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_'))
                .collect()
        });
        match nonce {
            Some(nonce) => format!("<script nonce=\"{nonce}\">\n{}</script>", self.to_script()),
            None => format!("<script>\n{}</script>", self.to_script()),
        }
    }
}

/// `url` with `result=<result>` added to its query, before any `#fragment`.
fn with_result(url: &str, result: &str) -> String {
    let (base, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(at) if at + 1 == base.len() || base.ends_with('&') => "",
        Some(_) => "&",
    };
    format!("{base}{separator}result={result}{fragment}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(package: &str) -> JsapiParams {
        JsapiParams {
            app_id: "wx2421b1c4370ec43b".into(),
            time_stamp: "1395712654".into(),
            nonce_str: "e61463f8efa94090b1f366cccfbbb444".into(),
            package: package.into(),
            sign_type: "MD5".into(),
            pay_sign: "70EA570631E4BB79628FBCA90534C63F".into(),
        }
    }

    #[test]
    fn embedded_json_escapes_what_html_and_old_engines_would_misread() {
        let value = serde_json::json!("</script><!-- & \u{2028}\u{2029}");
        assert_eq!(
            crate::html::embed_json(&value),
            r#""\u003c/script\u003e\u003c!-- \u0026 \u2028\u2029""#
        );
    }

    #[test]
    fn hostile_values_cannot_leave_the_script() {
        let hostile = "</script><script>alert(1)</script><!-- \"'`\\ \u{2028}";
        let tag = BridgeScript::new(&params(hostile))
            .result_url("/done?x=</script>")
            .unwrap()
            .to_script_tag();
        let body = tag
            .strip_prefix("<script>")
            .and_then(|rest| rest.strip_suffix("</script>"))
            .unwrap();
        assert!(!body.contains('<'), "{body}");
        assert!(!body.contains('>'), "{body}");
        assert!(!body.contains('\u{2028}'));
        // The value survives intact once the JSON is read back.
        let start = body.find("var params = ").unwrap() + "var params = ".len();
        let end = start + body[start..].find(";\n").unwrap();
        let back: JsapiParams = serde_json::from_str(&body[start..end]).unwrap();
        assert_eq!(back.package, hostile);
    }

    #[test]
    fn csp_nonce_keeps_only_base64_characters() {
        let tag = BridgeScript::new(&params("prepay_id=1"))
            .csp_nonce("abc\" onload=\"x")
            .to_script_tag();
        assert!(tag.starts_with("<script nonce=\"abconload=x\">"), "{tag}");
    }

    #[test]
    fn script_waits_for_the_bridge_when_absent() {
        let script = BridgeScript::new(&params("prepay_id=1")).to_script();
        assert!(script.contains(r#"document.addEventListener("WeixinJSBridgeReady", pay, false)"#));
        assert!(script.contains(r#"document.attachEvent("onWeixinJSBridgeReady", pay)"#));
        assert!(
            script.contains(r#"WeixinJSBridge.invoke("getBrandWCPayRequest", params, finish)"#)
        );
        assert!(script.contains("var resultUrls = null;"));
    }

    #[test]
    fn result_urls_must_stay_on_the_web() {
        let p = params("prepay_id=1");
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "//evil.example/x",
            "orders/1",
            "data:text/html,x",
            "/ok\nx",
            "/a b",
            "/\\evil.example",
            "",
        ] {
            let error = BridgeScript::new(&p).result_url(bad).map(drop).unwrap_err();
            assert_eq!(error.setting(), "result_url", "{bad:?}");
        }
        for good in [
            "/orders/1",
            "https://shop.example/o?id=1",
            "HTTP://shop.example/",
        ] {
            assert!(BridgeScript::new(&p).result_url(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn the_result_goes_into_the_query_before_any_fragment() {
        assert_eq!(with_result("/o/1", "ok"), "/o/1?result=ok");
        assert_eq!(
            with_result("/o/1?lang=zh", "fail"),
            "/o/1?lang=zh&result=fail"
        );
        assert_eq!(with_result("/o/1?", "ok"), "/o/1?result=ok");
        assert_eq!(with_result("/o/1#top", "cancel"), "/o/1?result=cancel#top");
        assert_eq!(with_result("/o/1?a=1#top", "ok"), "/o/1?a=1&result=ok#top");
    }
}
