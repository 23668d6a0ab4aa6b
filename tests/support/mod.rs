//! What the tests of the `xorpay` package share: the merchant's secret, temporary
//! directories, notifications signed as XorPay would sign them, a log writer to read back,
//! and polling. The demo shop's own kit is `tests/demo_shop`, compiled only into the shop's
//! tests.

#![allow(dead_code)]

use std::time::Duration;

pub(crate) mod lost_answer;
pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod scripted;
pub(crate) mod shop_process;
pub(crate) mod world;

#[allow(unused_imports)] // each test binary uses its part
pub(crate) use xorpay_testkit::{Captured, TempDir};

pub(crate) const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A notification body signed with the merchant's secret, as XorPay posts it (by the test
/// kit's MD5 oracle, not by the signer under test).
pub(crate) fn signed_notification(aoid: &str, order_id: &str, pay_price: &str) -> String {
    xorpay_testkit::notification(aoid, order_id, pay_price, SECRET)
}

/// An example binary that `cargo test` built beside this test.
pub(crate) fn example(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join(name)
}

/// Polls `check` until it holds or 20 s pass.
pub(crate) async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Runs the restart command the environment variable `command` names.
fn restart_server(command: &str, require: &str) -> Option<()> {
    let Some(script) = std::env::var(command).ok().filter(|s| !s.is_empty()) else {
        assert!(
            std::env::var(require).is_err(),
            "{require} is set, but {command} names no way to restart the server"
        );
        eprintln!("skipped: no {command} (./scripts/test.sh sets it)");
        return None;
    };
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "{script} failed: {status}");
    Some(())
}
