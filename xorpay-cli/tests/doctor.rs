//! `xorpay doctor` against local servers: each common fault named with its fix (a secret with
//! a trailing space, a notify URL that redirects, one that acknowledges anything, one that
//! checks with another secret, a loopback URL given to the real XorPay), a warning for plain
//! http, and a clean bill for the library's own notify route.

mod support;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::post;
use snapbox::cmd::{Command as Snap, OutputAssert, cargo_bin};
use snapbox::str;
use xorpay::prelude::*;

use support::SECRET;

/// The sandbox's address: loopback notify URLs are fine with it (nothing listens there; the
/// doctor does not call it).
const SANDBOX: &str = "http://127.0.0.1:8899";

/// Serves `router` on a loopback port; answers its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

#[derive(XorPayOrder, serde::Serialize, serde::Deserialize, Debug)]
#[xorpay(kind = native, notify_url = from_client)]
struct Tea {
    #[xorpay(order_id)]
    id: String,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
}

/// The library's own notify route, verifying with `secret`; answers the notify URL.
async fn library_route(secret: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let notify_url = format!("http://{}/xorpay/notify", listener.local_addr().unwrap());
    let payments: Payments<Tea> = Payments::builder()
        .aid("1000")
        .secret(secret)
        .notify_url(notify_url.as_str())
        .store(SqliteStore::in_memory().unwrap())
        .base_url(SANDBOX)
        .no_background()
        .build()
        .unwrap();
    let router = payments.router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    notify_url
}

/// Runs the doctor with these settings and nothing else from the environment.
async fn doctor(secret: &str, notify_url: &str, base_url: &str, json: bool) -> OutputAssert {
    let (secret, notify_url, base_url) = (
        secret.to_owned(),
        notify_url.to_owned(),
        base_url.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        let mut command = Snap::new(cargo_bin!("xorpay"))
            .arg("doctor")
            .env_clear()
            .env("XORPAY_AID", "1000")
            .env("XORPAY_APP_SECRET", secret)
            .env("XORPAY_NOTIFY_URL", notify_url)
            .env("XORPAY_BASE_URL", base_url)
            .timeout(Duration::from_secs(60));
        if json {
            command = command.arg("--json");
        }
        command.assert()
    })
    .await
    .unwrap()
}

/// The findings of a `--json` run, as `(level, subject, message)`.
fn findings(assert: &OutputAssert) -> Vec<(String, String, String)> {
    let output: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    output["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|finding| {
            let text = |name: &str| finding[name].as_str().unwrap_or_default().to_owned();
            (text("level"), text("subject"), text("message"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_librarys_own_route_passes_with_a_warning_for_plain_http() {
    let notify_url = library_route(SECRET).await;
    doctor(SECRET, &notify_url, SANDBOX, false)
        .await
        .success()
        .stdout_eq(str![[r#"
ok     secret      32 lowercase hex characters, as XorPay gives
ok     aid         aid 1000
ok     base_url    a sandbox at http://127.0.0.1:8899: loopback notify URLs are fine
ok     notify_url  http://127.0.0.1:[..]/xorpay/notify is on this machine or network, which a sandbox here reaches
warn   notify_url  http://127.0.0.1:[..]/xorpay/notify is plain http: XorPay's own examples use it and the notification is signed, but the payer's details in it cross the network in clear
                   fix: serve the notify route over https
ok     probe       a signed notification for an order that does not exist was refused with 409, as xorpay-rs refuses it
0 faults, 1 warning

"#]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_with_a_trailing_space_is_a_fault_and_no_probe_is_signed_with_it() {
    let notify_url = library_route(SECRET).await;
    let run = doctor(&format!("{SECRET} "), &notify_url, SANDBOX, false)
        .await
        .code(1);
    let stdout = String::from_utf8(run.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.starts_with(
            "fault  secret      the secret in XORPAY_APP_SECRET ends with a space: XorPay would \
             answer every request with sign_error\n                   fix: remove it where \
             XORPAY_APP_SECRET is set"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("probe"), "{stdout}");
    assert!(!stdout.contains(SECRET), "the secret is never printed");
    assert!(stdout.ends_with("1 fault, 1 warning\n"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notify_url_that_redirects_is_a_fault() {
    let target = "https://shop.example.com/xorpay/notify";
    let base = serve(Router::new().route(
        "/xorpay/notify",
        post(move || async move { Redirect::permanent(target) }),
    ))
    .await;
    let run = doctor(SECRET, &format!("{base}/xorpay/notify"), SANDBOX, true)
        .await
        .code(1);
    let found = findings(&run);
    let probe = found
        .iter()
        .find(|(_, subject, _)| subject == "probe")
        .unwrap();
    assert_eq!(probe.0, "fault");
    assert!(
        probe.2.ends_with(&format!(
            "answers with a redirect (HTTP 308 to {target}): XorPay does not follow it, and \
             counts it as a failed delivery"
        )),
        "{probe:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_that_acknowledges_anything_is_a_fault() {
    let base = serve(Router::new().route("/notify", post(|| async { "success" }))).await;
    let run = doctor(SECRET, &format!("{base}/notify"), SANDBOX, true)
        .await
        .code(1);
    let found = findings(&run);
    let probe = found
        .iter()
        .find(|(_, subject, _)| subject == "probe")
        .unwrap();
    assert_eq!(probe.0, "fault");
    assert!(
        probe
            .2
            .contains("acknowledged (HTTP 200) a payment of an order that does not exist"),
        "{probe:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_route_checking_with_another_secret_is_a_fault() {
    let notify_url = library_route("0123456789abcdef0123456789abcdef").await;
    let run = doctor(SECRET, &notify_url, SANDBOX, true).await.code(1);
    let found = findings(&run);
    let probe = found
        .iter()
        .find(|(_, subject, _)| subject == "probe")
        .unwrap();
    assert_eq!(probe.0, "fault");
    assert!(probe.2.contains("HTTP 400"), "{probe:?}");
    assert!(probe.2.contains("another secret"), "{probe:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_route_and_an_unreachable_one_are_faults() {
    let base = serve(Router::new().route("/other", post(|| async { StatusCode::OK }))).await;
    let run = doctor(SECRET, &format!("{base}/xorpay/notify"), SANDBOX, true)
        .await
        .code(1);
    let found = findings(&run);
    let probe = found
        .iter()
        .find(|(_, subject, _)| subject == "probe")
        .unwrap();
    assert!(
        probe.0 == "fault" && probe.2.contains("HTTP 404: nothing takes notifications"),
        "{probe:?}"
    );

    let closed = format!("http://127.0.0.1:{}/notify", support::free_port());
    let run = doctor(SECRET, &closed, SANDBOX, true).await.code(1);
    let found = findings(&run);
    let probe = found
        .iter()
        .find(|(_, subject, _)| subject == "probe")
        .unwrap();
    assert!(
        probe.0 == "fault" && probe.2.contains("Connection refused"),
        "{probe:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loopback_notify_url_given_to_the_real_xorpay_is_a_fault() {
    let notify_url = library_route(SECRET).await;
    let run = doctor(SECRET, &notify_url, "https://xorpay.com", true)
        .await
        .code(1);
    let found = findings(&run);
    assert!(
        found
            .iter()
            .any(|(level, subject, message)| level == "fault"
                && subject == "notify_url"
                && message.ends_with("is a loopback or private address: XorPay cannot reach it")),
        "{found:?}"
    );
    // The route itself is right: the probe, sent from here, says so.
    assert!(
        found
            .iter()
            .any(|(level, subject, _)| level == "ok" && subject == "probe"),
        "{found:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_settings_are_faults_that_say_what_to_set() {
    let run = tokio::task::spawn_blocking(|| {
        Snap::new(cargo_bin!("xorpay"))
            .args(["doctor", "--json"])
            .env_clear()
            .assert()
    })
    .await
    .unwrap()
    .code(1);
    let found = findings(&run);
    let faults: Vec<&str> = found
        .iter()
        .filter(|(level, ..)| level == "fault")
        .map(|(_, subject, _)| subject.as_str())
        .collect();
    assert_eq!(faults, ["secret", "aid", "notify_url"]);
}
