//! The rendered `WeixinJSBridge` script, executed by a real JavaScript engine (Node.js) with a
//! recording stand-in for the bridge and the document. The browser-level test of the whole
//! pay page lives with the demo shop; this one pins the script's own contract.

use std::io::Write;
use std::process::{Command, Stdio};

use xorpay_core::JsapiParams;
use xorpay_core::jsapi::BridgeScript;

fn params() -> JsapiParams {
    JsapiParams {
        app_id: "wx2421b1c4370ec43b".into(),
        time_stamp: "1395712654".into(),
        nonce_str: "e61463f8efa94090b1f366cccfbbb444".into(),
        // A value that would break naive embedding.
        package: "prepay_id=</script><!--\"'\u{2028}".into(),
        sign_type: "MD5".into(),
        pay_sign: "70EA570631E4BB79628FBCA90534C63F".into(),
    }
}

/// Runs `script` after `prelude` in Node and returns what the prelude's harness printed.
fn run_in_node(prelude: &str, script: &str, epilogue: &str) -> serde_json::Value {
    let program = format!("{prelude}\n{script}\n{epilogue}");
    let mut child = Command::new("node")
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed for this test (the README's test command installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "node printed no json ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A fake `document` that records listeners and events, and a `window.location`.
const HARNESS: &str = r#"
const listeners = {};
const dispatched = [];
global.window = { location: { href: "/pay" } };
global.CustomEvent = class { constructor(type, init) { this.type = type; this.detail = init.detail; } };
global.document = {
  addEventListener(type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
  dispatchEvent(event) { dispatched.push({ type: event.type, detail: event.detail }); },
};
const calls = [];
function installBridge(answer) {
  global.WeixinJSBridge = {
    invoke(method, args, callback) { calls.push({ method, args }); callback({ err_msg: answer }); },
  };
}
"#;

const REPORT: &str = r#"
process.stdout.write(JSON.stringify({ calls, dispatched, href: window.location.href,
  waiting: Object.keys(listeners) }));
"#;

#[test]
fn invokes_the_bridge_at_once_with_exactly_the_six_parameters() {
    let params = params();
    let script = BridgeScript::new(&params)
        .result_url("/orders/42?lang=zh#paid")
        .unwrap()
        .to_script();
    let report = run_in_node(
        &format!("{HARNESS}\ninstallBridge('get_brand_wcpay_request:ok');"),
        &script,
        REPORT,
    );
    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["method"], "getBrandWCPayRequest");
    assert_eq!(calls[0]["args"], serde_json::to_value(&params).unwrap());
    assert_eq!(
        report["dispatched"][0]["detail"]["result"], "ok",
        "{report}"
    );
    assert_eq!(report["href"], "/orders/42?lang=zh&result=ok#paid");
}

#[test]
fn waits_for_weixinjsbridgeready_when_the_bridge_is_not_loaded() {
    let params = params();
    let script = BridgeScript::new(&params).to_script();
    let report = run_in_node(
        HARNESS,
        &script,
        &format!(
            r#"
const before = calls.length;
installBridge('get_brand_wcpay_request:cancel');
listeners["WeixinJSBridgeReady"].forEach((fn) => fn());
if (before !== 0) throw new Error("invoked before the bridge was ready");
{REPORT}"#
        ),
    );
    assert_eq!(report["calls"].as_array().unwrap().len(), 1);
    assert_eq!(report["calls"][0]["args"]["package"], params.package);
    assert_eq!(report["dispatched"][0]["detail"]["result"], "cancel");
    // Without a result URL the page stays where it is.
    assert_eq!(report["href"], "/pay");
}
