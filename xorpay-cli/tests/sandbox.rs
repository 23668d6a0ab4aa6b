//! `xorpay sandbox` as scripts use it, and the sandbox driven from the terminal.
//!
//! Started with `--listen 127.0.0.1:PORT --aid AID` and the secret in `XORPAY_APP_SECRET`, it
//! prints `listening on http://127.0.0.1:PORT` once it accepts connections, serves, stops
//! cleanly on SIGTERM and never prints the secret. Then `xorpay query2`, `trigger`,
//! `deliveries` and `resend` drive it against a real shop route on loopback: a replayed
//! delivery reaches the route and is acknowledged as a duplicate.

mod support;

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use snapbox::cmd::{Command as Snap, cargo_bin};
use snapbox::str;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use xorpay::prelude::*;

use support::{BIN, SECRET, free_port};

fn spawn(args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("sandbox")
        .args(args)
        .env_clear()
        .env("XORPAY_APP_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Starts `xorpay sandbox` and waits for its ready line; answers the child and its base URL.
async fn start(args: &[&str]) -> (Child, String) {
    let mut child = spawn(args);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("the ready line within 30 s")
        .unwrap();
    let base = line
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("not the ready line: {line:?}"))
        .to_owned();
    (child, base)
}

/// The shop's order.
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

fn tea(id: &str) -> Tea {
    Tea {
        id: id.to_owned(),
        title: "乌龙茶".to_owned(),
        total: "12.50".parse().unwrap(),
    }
}

/// A shop on loopback whose notify route confirms through the service and records, for each
/// notification it acknowledged, whether the payment was new.
async fn shop(sandbox: &str) -> (Payments<Tea>, Arc<Mutex<Vec<bool>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shop_url = format!("http://{}", listener.local_addr().unwrap());
    let payments = Payments::builder()
        .aid("4242")
        .secret(SECRET)
        .notify_url(format!("{shop_url}/xorpay/notify"))
        .store(SqliteStore::in_memory().unwrap())
        .base_url(sandbox)
        .no_background()
        .build()
        .unwrap();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let route = {
        let (payments, acknowledged) = (payments.clone(), Arc::clone(&acknowledged));
        axum::routing::post(move |body: axum::body::Bytes| async move {
            match payments.confirm(&body).await {
                Ok(confirmed) => {
                    acknowledged.lock().unwrap().push(confirmed.is_new());
                    (axum::http::StatusCode::OK, "ok")
                }
                Err(error) => (
                    axum::http::StatusCode::from_u16(error.status()).unwrap(),
                    "refused",
                ),
            }
        })
    };
    let router = axum::Router::new().route("/xorpay/notify", route);
    tokio::spawn(async move { axum::serve(listener, router).await });
    (payments, acknowledged)
}

/// `xorpay` with the merchant's settings pointed at the sandbox, and nothing else from the
/// environment.
fn xorpay(sandbox: &str) -> Snap {
    Snap::new(cargo_bin!("xorpay"))
        .env_clear()
        .env("XORPAY_AID", "4242")
        .env("XORPAY_APP_SECRET", SECRET)
        .env("XORPAY_BASE_URL", sandbox)
        .env("XORPAY_SANDBOX_URL", sandbox)
}

fn stdout(assert: &snapbox::cmd::OutputAssert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn trigger_deliveries_and_resend_drive_the_sandbox_against_a_real_shop() {
    let (_child, sandbox) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--aid",
        "4242",
        "--retry-unit-ms",
        "50",
    ])
    .await;
    let (payments, acknowledged) = shop(&sandbox).await;
    for id in ["cli-1", "cli-2", "cli-3"] {
        assert!(matches!(
            payments.checkout(tea(id)).await.unwrap(),
            Checkout::Pending(_)
        ));
    }
    let base = sandbox.clone();
    let run = move |args: &'static [&'static str]| {
        let base = base.clone();
        tokio::task::spawn_blocking(move || xorpay(&base).args(args).assert())
    };

    // query2, the golden runs: the order is new.
    run(&["query2", "cli-1"])
        .await
        .unwrap()
        .success()
        .stdout_eq(str![[r#"
cli-1: new (created, not paid yet)

"#]]);
    run(&["query2", "--json", "cli-1"])
        .await
        .unwrap()
        .success()
        .stdout_eq(str![[r#"
{
  "order_id": "cli-1",
  "paid": false,
  "state": "new"
}

"#]]);

    // The payer pays from the terminal; the shop records it once.
    let paid = run(&["trigger", "paid", "cli-1"]).await.unwrap().success();
    assert!(
        stdout(&paid).starts_with("cli-1: payed (aoid "),
        "{}",
        stdout(&paid)
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !matches!(
        payments.order("cli-1").await.unwrap(),
        Some(StoredOrder::Paid(_))
    ) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the shop never recorded the payment"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(*acknowledged.lock().unwrap(), [true]);

    // The delivery log shows the notification and the shop's 200.
    let log = run(&["deliveries", "--order", "cli-1", "--json"])
        .await
        .unwrap()
        .success();
    let log: serde_json::Value = serde_json::from_str(&stdout(&log)).unwrap();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["status"], 200);
    assert_eq!(entries[0]["kind"], "genuine");
    assert_eq!(entries[0]["fields"]["order_id"], "cli-1");
    let id = entries[0]["id"].as_str().unwrap().to_owned();
    let text = run(&["deliveries"]).await.unwrap().success();
    assert!(
        stdout(&text).contains(&format!(
            "{id}  order cli-1  attempt 1 genuine  answered 200 \"ok\""
        )),
        "{}",
        stdout(&text)
    );

    // Replayed: it reaches the shop's route, which acknowledges it as a duplicate.
    let base = sandbox.clone();
    let resent =
        tokio::task::spawn_blocking(move || xorpay(&base).args(["resend", id.as_str()]).assert())
            .await
            .unwrap()
            .success();
    assert!(
        stdout(&resent).contains("resent  answered 200 \"ok\""),
        "{}",
        stdout(&resent)
    );
    assert_eq!(*acknowledged.lock().unwrap(), [true, false]);

    // Expired and fee_error, as query2 then reports them; nothing more is notified.
    let expired = run(&["trigger", "expired", "cli-2"])
        .await
        .unwrap()
        .success();
    assert!(stdout(&expired).starts_with("cli-2: expire (aoid "));
    run(&["query2", "cli-2"])
        .await
        .unwrap()
        .success()
        .stdout_eq(str![[r#"
cli-2: expire (expired unpaid)

"#]]);
    let short = run(&["trigger", "fee_error", "cli-3"])
        .await
        .unwrap()
        .success();
    assert!(stdout(&short).starts_with("cli-3: fee_error (aoid "));
    run(&["query2", "cli-3"])
        .await
        .unwrap()
        .success()
        .stdout_eq(str![[r#"
cli-3: fee_error (paid, but XorPay could not take its fee: top up the balance in XorPay's dashboard)

"#]]);
    assert_eq!(acknowledged.lock().unwrap().len(), 2);

    // The error paths: an unknown order, a paid order expired, an unknown delivery.
    run(&["trigger", "paid", "no-such-order"])
        .await
        .unwrap()
        .code(1)
        .stderr_eq(str![[r#"
xorpay: the sandbox at [..] has no order "no-such-order": check the number, or --aid

"#]]);
    run(&["trigger", "expired", "cli-1"])
        .await
        .unwrap()
        .code(1)
        .stderr_eq(str![[r#"
xorpay: the order is success and cannot change that way

"#]]);
    run(&["resend", "0123.9"])
        .await
        .unwrap()
        .code(1)
        .stderr_eq(str![[r#"
xorpay: the sandbox has no such order or delivery: `xorpay deliveries` lists them

"#]]);
}

#[tokio::test]
async fn starts_with_the_contract_flags_serves_and_never_prints_the_secret() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = spawn(&["--listen", &listen, "--aid", "4242"]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("the ready line within 30 s")
        .unwrap();
    assert_eq!(line, format!("listening on http://127.0.0.1:{port}\n"));

    // It accepts connections as soon as it said so: a real order through the library.
    let base = format!("http://127.0.0.1:{port}");
    let (payments, _) = shop(&base).await;
    assert!(matches!(
        payments.checkout(tea("bin-1")).await.unwrap(),
        Checkout::Pending(_)
    ));
    let merchant = reqwest::get(format!("{base}/_sandbox/merchant"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(merchant.contains("4242") && !merchant.contains(SECRET));

    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .await
        .unwrap();
    assert!(!rest.contains(SECRET) && !stderr.contains(SECRET));
    assert!(!line.contains(SECRET));
}

#[tokio::test]
async fn stops_cleanly_on_sigterm() {
    let (mut child, base) = start(&["--listen", "127.0.0.1:0", "--aid", "1"]).await;
    // Port 0: the line names the port actually bound.
    let port: u16 = base
        .strip_prefix("http://127.0.0.1:")
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(port, 0);
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn refuses_non_loopback_a_missing_secret_and_a_bad_merchants_file() {
    let output = spawn(&["--listen", "0.0.0.0:0", "--aid", "1"])
        .wait_with_output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!stderr.contains(SECRET));
    assert!(output.stdout.is_empty());

    let output = Command::new(BIN)
        .args(["sandbox", "--aid", "1"])
        .env_clear()
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("XORPAY_APP_SECRET"), "{stderr}");

    let dir = xorpay_testkit::TempDir::new("cli-merchants");
    let file = dir.path().join("merchants");
    std::fs::write(
        &file,
        "# platform shops\n77=a-second-secret\nno-secret-here\n",
    )
    .unwrap();
    let output = spawn(&["--aid", "1", "--more-merchants", file.to_str().unwrap()])
        .wait_with_output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3: expected AID=SECRET"), "{stderr}");
    assert!(!stderr.contains("a-second-secret"));
}

/// With `--more-merchants`, a second merchant's order is created and found by its aid.
#[tokio::test]
async fn serves_the_merchants_of_a_file() {
    let dir = xorpay_testkit::TempDir::new("cli-merchants-ok");
    let file = dir.path().join("merchants");
    std::fs::write(&file, "77=a-second-secret-0123456789abcd\n").unwrap();
    let (_child, base) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--aid",
        "4242",
        "--more-merchants",
        file.to_str().unwrap(),
    ])
    .await;
    let merchant = reqwest::get(format!("{base}/_sandbox/merchant?aid=77"))
        .await
        .unwrap();
    assert_eq!(merchant.status(), 200);
}

/// With `--state FILE`, the program killed outright and started again still has its orders.
#[tokio::test]
async fn keeps_its_orders_in_the_state_file_across_a_kill() {
    let dir = xorpay_testkit::TempDir::new("cli-sandbox-state");
    let file = dir.path().join("sandbox.json");
    let state = file.to_str().unwrap();
    let args = ["--listen", "127.0.0.1:0", "--aid", "4242", "--state", state];
    let (mut child, base) = start(&args).await;
    let (payments, _) = shop(&base).await;
    assert!(matches!(
        payments.checkout(tea("bin-kept")).await.unwrap(),
        Checkout::Pending(_)
    ));
    child.kill().await.unwrap();

    let (_child, base) = start(&args).await;
    let orders = reqwest::get(format!("{base}/_sandbox/orders?order_id=bin-kept"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(orders.contains("\"state\":\"new\""), "{orders}");
    let state_text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !state_text.contains(SECRET),
        "the state file never holds the secret"
    );
}
