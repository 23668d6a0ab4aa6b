//! What a newcomer meets first: the README shows exactly the code CI compiles, with nothing
//! hidden, and its complete server runs against a local XorPay as the README says.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use xorpay_sandbox::Sandbox;

const README: &str = include_str!("../README.md");
const NOTIFY_SERVER: &str = include_str!("../examples/notify_server.rs");
const SANDBOX_README: &str = include_str!("../xorpay-sandbox/README.md");
const SANDBOX_RECIPE: &str = include_str!("sandbox_recipe.rs");

/// The ```rust blocks of the README, as written.
fn rust_blocks() -> Vec<&'static str> {
    let mut blocks = Vec::new();
    let mut rest = README;
    while let Some(start) = rest.find("```rust") {
        let body = &rest[start..];
        let body = &body[body.find('\n').unwrap() + 1..];
        let end = body.find("```").unwrap();
        blocks.push(&body[..end]);
        rest = &body[end + 3..];
    }
    blocks
}

#[test]
fn the_readme_shows_the_notify_server_example_byte_for_byte() {
    assert!(
        rust_blocks().contains(&NOTIFY_SERVER),
        "README.md must hold examples/notify_server.rs, unchanged, in a ```rust,no_run block"
    );
}

#[test]
fn the_sandbox_readme_shows_its_recipe_byte_for_byte() {
    assert!(
        SANDBOX_README.contains(&format!("```rust,ignore\n{SANDBOX_RECIPE}```")),
        "xorpay-sandbox/README.md must hold tests/sandbox_recipe.rs, unchanged, in a \
         ```rust,ignore block"
    );
}

/// rustdoc hides lines that start with `# `; GitHub shows them as they are.
#[test]
fn the_readme_has_no_lines_only_rustdoc_would_hide() {
    for block in rust_blocks() {
        for line in block.lines() {
            let line = line.trim_start();
            assert!(
                line != "#" && !line.starts_with("# "),
                "a hidden doctest line in the README: {line:?}"
            );
        }
    }
}

/// The install snippet names the crate with the features the server needs, and every crate
/// the server uses.
#[test]
fn the_install_snippet_names_what_the_server_uses() {
    let start = README.find("## Install").expect("an install section");
    let snippet = &README[start..];
    let snippet = &snippet[snippet.find("```sh\n").unwrap() + 6..];
    let snippet = &snippet[..snippet.find("```").unwrap()];
    assert!(snippet.contains("cargo add xorpay --features axum,sqlite\n"));
    for used in [
        "tokio",
        "serde",
        "axum@0.8",
        "tracing",
        "tracing-subscriber",
    ] {
        assert!(
            snippet.split_whitespace().any(|word| word == used),
            "{used} is not in the install snippet"
        );
    }
    // `payments.router()` is an axum 0.8 router: a newer axum would not serve it.
    assert!(snippet.contains("macros,rt-multi-thread,net"), "{snippet}");
}

/// The example binary that `cargo test` built beside this test.
fn example(name: &str) -> std::path::PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("examples").join(name)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `cargo run --example notify_server` against a local XorPay: it checks an order out, prints
/// how to pay it, ships it once the sandbox's payer pays, and prints the command that refunds
/// it, which refunds it from a second process on the same store file while the server runs.
#[tokio::test]
async fn the_notify_server_example_takes_a_payment_from_the_sandbox_and_refunds_it() {
    let sandbox = Sandbox::builder()
        .aid("1000")
        .secret("0123456789abcdef0123456789abcdef")
        .retry_unit(Duration::from_millis(20))
        .build()
        .start()
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("xorpay-notify-server-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let binary = example("notify_server");
    assert!(binary.exists(), "{} is not built", binary.display());
    let listen = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let child = Command::new(&binary)
        .current_dir(&dir)
        .env("XORPAY_BASE_URL", sandbox.base_url())
        .env("LISTEN", &listen)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Killed(child);
    let lines = BufReader::new(child.0.stdout.take().unwrap());
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(20), receiver.recv())
            .await
            .expect("the example went quiet")
            .expect("the example exited")
    };
    let pay = loop {
        let line = next().await;
        if let Some(curl) = line.strip_prefix("pay it in the sandbox: curl -X POST ") {
            break curl.to_owned();
        }
    };
    let refund = loop {
        let line = next().await;
        if let Some(command) =
            line.strip_prefix("refund it once paid: cargo run --example notify_server -- ")
        {
            break command
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>();
        }
    };
    let aoid = pay
        .strip_prefix(&format!("{}/_sandbox/orders/", sandbox.base_url()))
        .and_then(|rest| rest.strip_suffix("/pay"))
        .unwrap_or_else(|| panic!("an unexpected curl line: {pay}"))
        .to_owned();
    sandbox.pay(&aoid).await.unwrap();
    let order_id = sandbox.order(&aoid).unwrap().order_id;
    loop {
        if next().await == format!("shipped {order_id}") {
            break;
        }
    }
    let acknowledged = sandbox
        .wait_for(&aoid, Duration::from_secs(10), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(acknowledged.state, xorpay_sandbox::OrderState::Success);

    // The printed refund command, run as a second process while the server runs.
    assert_eq!(refund.len(), 4, "{refund:?}");
    assert_eq!(
        (refund[0].as_str(), refund[1].as_str()),
        ("refund", order_id.as_str())
    );
    // (tokio's Command: the sandbox answering it runs on this test's runtime.)
    let run_refund = async || {
        tokio::process::Command::new(&binary)
            .current_dir(&dir)
            .env("XORPAY_BASE_URL", sandbox.base_url())
            .env("LISTEN", &listen)
            .args(&refund)
            .stderr(Stdio::null())
            .output()
            .await
            .unwrap()
    };
    let refunded = run_refund().await;
    assert!(refunded.status.success(), "{refunded:?}");
    let said = String::from_utf8_lossy(&refunded.stdout);
    assert!(
        said.contains(&format!("refunded 0.01 of order {order_id}")),
        "{said}"
    );
    assert_eq!(sandbox.order(&aoid).unwrap().refunded_fen, 1);
    // The same command again (a retry): the same refund, not a second one.
    let again = run_refund().await;
    assert!(again.status.success(), "{again:?}");
    assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 1);
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}
