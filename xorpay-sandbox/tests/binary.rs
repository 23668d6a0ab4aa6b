//! The `xorpay-sandbox` program as scripts use it: started with exactly `--listen
//! 127.0.0.1:PORT --aid AID --secret SECRET`, it prints `listening on http://127.0.0.1:PORT`
//! once it accepts connections, serves, and never prints the secret. `--help` documents every
//! flag.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Answer, Req, md5};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_xorpay-sandbox");
const SECRET: &str = "a-secret-that-must-never-be-printed";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(BINARY)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn starts_with_the_contract_flags_and_serves() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = spawn(&["--listen", &listen, "--aid", "4242", "--secret", SECRET]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .expect("the ready line within 30 s")
        .unwrap();
    assert_eq!(line, format!("listening on http://127.0.0.1:{port}\n"));

    // It accepts connections as soon as it said so.
    let base = format!("http://127.0.0.1:{port}");
    let req = Req::new(common::Endpoint::Pay, "native", "bin-1").signed(SECRET);
    let answer = Answer::read(
        common::client()
            .post(format!("{base}/api/pay/4242"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(req.body())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let json = answer.json();
    assert_eq!(json["status"], "ok");
    let aoid = json["aoid"].as_str().unwrap();
    let query2 = format!(
        "{base}/api/query2/4242?order_id=bin-1&sign={}",
        md5(&["bin-1", SECRET])
    );
    assert_eq!(common::get(&query2).await.code(), "new");
    let paid = common::post_form(&format!("{base}/_sandbox/orders/{aoid}/pay"), &[]).await;
    assert_eq!(paid.json()["state"], "payed");
    let merchant = common::get(&format!("{base}/_sandbox/merchant")).await.body;
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
    let mut child = spawn(&["--listen", "127.0.0.1:0", "--aid", "1", "--secret", SECRET]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    // Port 0: the line names the port actually bound.
    let port: u16 = line
        .trim_end()
        .strip_prefix("listening on http://127.0.0.1:")
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
async fn refuses_non_loopback_and_missing_flags() {
    let output = Command::new(BINARY)
        .args(["--listen", "0.0.0.0:0", "--aid", "1", "--secret", SECRET])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
    assert!(!stderr.contains(SECRET));
    assert!(output.stdout.is_empty());

    let output = Command::new(BINARY)
        .args(["--aid", "1"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--secret"));
}

#[tokio::test]
async fn help_documents_every_flag() {
    let output = Command::new(BINARY).arg("--help").output().await.unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--listen",
        "--aid",
        "--secret",
        "--retry-unit-ms",
        "--strict-lowercase-sign",
        "--balance-fen",
        "--fee-rate-bp",
        "--notify-timeout-ms",
        "--app-off",
        "--state",
        "--help",
        "--version",
    ] {
        assert!(
            help.contains(flag),
            "--help does not mention {flag}:\n{help}"
        );
    }
    assert!(
        help.contains("127.0.0.1:8899"),
        "the loopback default is shown"
    );
    assert!(help.contains("60000"), "the retry unit's default is shown");
}

/// With `--state FILE`, the program killed outright and started again still has its orders.
#[tokio::test]
async fn keeps_its_orders_in_the_state_file_across_a_kill() {
    let file = std::env::temp_dir().join(format!("xorpay-sandbox-bin-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let state = file.to_str().unwrap();
    let start = || async {
        let mut child = spawn(&[
            "--listen",
            "127.0.0.1:0",
            "--aid",
            "4242",
            "--secret",
            SECRET,
            "--state",
            state,
        ]);
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        let base = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap()
            .to_owned();
        (child, base)
    };
    let (mut child, base) = start().await;
    let req = Req::new(common::Endpoint::Pay, "native", "bin-kept").signed(SECRET);
    let created = Answer::read(
        common::client()
            .post(format!("{base}/api/pay/4242"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(req.body())
            .send()
            .await
            .unwrap(),
    )
    .await;
    let aoid = created.json()["aoid"].as_str().unwrap().to_owned();
    child.kill().await.unwrap();

    let (_child, base) = start().await;
    let query2 = format!(
        "{base}/api/query2/4242?order_id=bin-kept&sign={}",
        md5(&["bin-kept", SECRET])
    );
    assert_eq!(common::get(&query2).await.code(), "new");
    let orders = common::get(&format!("{base}/_sandbox/orders")).await.body;
    assert!(orders.contains(&aoid), "{orders}");
    let state_text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !state_text.contains(SECRET),
        "the state file never holds the secret"
    );
    let _ = std::fs::remove_file(&file);
}
