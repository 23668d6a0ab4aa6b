//! The demo shop's `/metrics` after a known scenario: five payments, two duplicate deliveries,
//! one forged notification, one body too large, one refund XorPay refuses, one refund whose
//! answer was lost (the hook told a person must act) and that was resolved by hand (the hook
//! told it was made), and one order that expired.
//!
//! One test in this binary: the `metrics` facade has one recorder per process, and the
//! counts must be this scenario's alone.

mod demo_shop;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use demo_shop::{SHOP_TIMEOUT, ShopSetup, buy, sandbox};
use support::{eventually, signed_notification};
use xorpay::prelude::*;

const TOKEN: &str = "metrics-token-for-the-test";

/// The exposition's samples: `name{labels}` → value, labels as rendered.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(url: &str) -> String {
    let response = reqwest::Client::new()
        .get(format!("{url}/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// The sample `key`, or 0 when absent.
async fn value(url: &str, key: &str) -> f64 {
    samples(&scrape(url).await).get(key).copied().unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shop_reports_a_known_scenario_exactly() {
    let running = ShopSetup::new(sandbox(Duration::from_secs(600)).await)
        .admin_token(TOKEN)
        .start()
        .await;
    let url = running.url.clone();
    let sandbox = &running.sandbox;
    let payments = running.shop.payments().clone();
    let aid = sandbox.aid().to_owned();

    // Behind the admin token: without it there is nothing to see.
    let anonymous = reqwest::get(format!("{url}/metrics")).await.unwrap();
    assert_eq!(anonymous.status(), 404);
    let by_query = reqwest::get(format!("{url}/metrics?token={TOKEN}"))
        .await
        .unwrap();
    assert_eq!(by_query.status(), 200);

    // Five payments.
    let mut paid = Vec::new();
    for product in ["latte", "tea", "cookie", "latte", "tea"] {
        let id = buy(&url, product).await;
        let aoid = sandbox.order_by_order_id(&id).unwrap().aoid;
        sandbox.pay(&aoid).await.unwrap();
        paid.push((id, aoid));
    }
    for (id, _) in &paid {
        eventually("the order to be delivered", async || {
            running.shop.deliveries_of(id).await == 1
        })
        .await;
    }

    // Two duplicate deliveries: XorPay sends the first two notifications again.
    for (_, aoid) in &paid[..2] {
        let delivery = format!("{aoid}.1");
        let resent = sandbox.resend(&delivery).await.unwrap();
        assert_eq!(resent.request.status, Some(200), "{resent:?}");
    }

    // One forged notification: the third order's, signed with another secret.
    let (id, aoid) = &paid[2];
    let genuine = signed_notification(aoid, id, "0.01");
    let (head, signature) = genuine.split_once("sign=").unwrap();
    let forged = format!("{head}sign={}", "0".repeat(signature.len()));
    let status = reqwest::Client::new()
        .post(format!("{url}/xorpay/notify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(forged)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 400);
    // One body too large to be a notification, refused by the route before it is read.
    let padded = format!(
        "{}&pad={}",
        genuine,
        "x".repeat(xorpay::Notification::MAX_BODY)
    );
    let status = reqwest::Client::new()
        .post(format!("{url}/xorpay/notify"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(padded)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 413);

    // One refund XorPay refuses (its secret is not the one the refund is signed with).
    let (id, _) = &paid[1];
    let Some(StoredOrder::Paid(order)) = payments.order(id).await.unwrap() else {
        panic!("expected {id} paid");
    };
    sandbox.rotate_secret("ffffffffffffffffffffffffffffffff");
    let refused = payments
        .refund(&order, Price::from_fen(100).unwrap(), "refund-0")
        .await;
    assert!(
        matches!(refused, Err(xorpay::RefundError::NotMade { .. })),
        "{refused:?}"
    );
    sandbox.rotate_secret(support::SECRET);

    // One refund whose answer is lost: in doubt, counted, then resolved by hand as made.
    let (id, _) = &paid[0];
    let Some(StoredOrder::Paid(order)) = payments.order(id).await.unwrap() else {
        panic!("expected {id} paid");
    };
    sandbox.inject_route_fault(
        xorpay_sandbox::Route::Refund,
        xorpay_sandbox::RouteFault::AnswerLost,
        xorpay_sandbox::FaultTimes::Once,
    );
    let refused = payments
        .refund(&order, Price::from_fen(300).unwrap(), "refund-1")
        .await;
    assert!(
        matches!(refused, Err(xorpay::RefundError::InDoubt { .. })),
        "{refused:?}"
    );
    // The background reconciliation reads the book: one refund in doubt, one order to see to.
    let in_doubt = format!("xorpay_refunds_in_doubt{{aid=\"{aid}\"}}");
    let attention = format!("xorpay_orders_attention{{aid=\"{aid}\"}}");
    eventually("the in-doubt gauge", async || {
        value(&url, &in_doubt).await == 1.0
    })
    .await;
    assert_eq!(value(&url, &attention).await, 1.0);
    // Still in doubt once it may be resolved: the hook is told a person must act.
    tokio::time::sleep(SHOP_TIMEOUT * 3).await;
    let told =
        |event: &str| format!("xorpay_hook_runs_total{{event=\"{event}\",outcome=\"done\"}}");
    eventually("the hook to be told of the refund in doubt", async || {
        value(&url, &told("attention")).await == 1.0
    })
    .await;
    payments
        .resolve_refund(&order, "refund-1", true)
        .await
        .unwrap();
    eventually(
        "the hook to be told the refunds were made and not made",
        async || {
            value(&url, &told("refund_made")).await == 1.0
                && value(&url, &told("refund_not_made")).await == 1.0
        },
    )
    .await;

    // One order that expires: XorPay expires it, and asking about it records it.
    let id = buy(&url, "cookie").await;
    let aoid = sandbox.order_by_order_id(&id).unwrap().aoid;
    let pending_gauge = format!("xorpay_orders_pending{{aid=\"{aid}\"}}");
    eventually("the pending gauge", async || {
        value(&url, &pending_gauge).await == 1.0
    })
    .await;
    sandbox.expire(&aoid).unwrap();
    // Not stale yet for reconciliation (two minutes): asking about it now records it.
    let Some(StoredOrder::Pending(order)) = payments.order(&id).await.unwrap() else {
        panic!("expected {id} pending");
    };
    payments.settle(order).await.unwrap();
    assert_eq!(
        payments.order(&id).await.unwrap().unwrap().state_name(),
        "expired"
    );
    eventually("the gauges to be read again", async || {
        value(&url, &pending_gauge).await == 0.0 && value(&url, &in_doubt).await == 0.0
    })
    .await;

    // The background work stops: nothing changes between the reads below.
    payments.shutdown().await;
    let text = scrape(&url).await;
    let samples = samples(&text);
    let at = |key: &str| samples.get(key).copied().unwrap_or(0.0);
    let expected = [
        ("xorpay_notifications_total{result=\"acknowledged\"}", 5.0),
        ("xorpay_notifications_total{result=\"duplicate\"}", 2.0),
        ("xorpay_notifications_total{result=\"bad_signature\"}", 1.0),
        ("xorpay_notifications_total{result=\"too_large\"}", 1.0),
        (
            "xorpay_transitions_total{from=\"created\",to=\"pending\"}",
            6.0,
        ),
        (
            "xorpay_transitions_total{from=\"pending\",to=\"paid\"}",
            5.0,
        ),
        (
            "xorpay_transitions_total{from=\"pending\",to=\"expired\"}",
            1.0,
        ),
        ("xorpay_refunds_total{outcome=\"in_doubt\"}", 1.0),
        ("xorpay_refunds_total{outcome=\"refused\"}", 1.0),
        ("xorpay_refunds_total{outcome=\"resolved_made\"}", 1.0),
        (
            "xorpay_hook_runs_total{event=\"paid\",outcome=\"done\"}",
            5.0,
        ),
        (
            "xorpay_requests_total{endpoint=\"pay\",outcome=\"ok\"}",
            6.0,
        ),
        (
            "xorpay_requests_total{endpoint=\"refund\",outcome=\"connection\"}",
            1.0,
        ),
        (
            "xorpay_requests_total{endpoint=\"refund\",outcome=\"refused\"}",
            1.0,
        ),
        (
            "xorpay_request_duration_seconds_count{endpoint=\"pay\"}",
            6.0,
        ),
        (&in_doubt, 0.0),
        (&attention, 0.0),
        (&pending_gauge, 0.0),
    ];
    for (key, value) in expected {
        assert_eq!(at(key), value, "{key} in:\n{text}");
    }
    // Nothing else was counted under these metrics.
    let total = |prefix: &str| -> f64 {
        samples
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(_, value)| *value)
            .sum()
    };
    assert_eq!(total("xorpay_notifications_total{"), 9.0, "{text}");
    assert_eq!(total("xorpay_transitions_total{"), 12.0, "{text}");
    assert_eq!(total("xorpay_refunds_total{"), 3.0, "{text}");
    // Five payments fulfilled, one refund in doubt told to a person, then told made, one
    // refund told not made.
    assert_eq!(total("xorpay_hook_runs_total{"), 8.0, "{text}");
    // Every counter's series exists from the start, at 0: `increase()` sees its first event.
    for key in [
        "xorpay_notifications_total{result=\"unknown_order\"}",
        "xorpay_reconciled_total{outcome=\"fee_error\"}",
        "xorpay_hook_runs_total{event=\"expired\",outcome=\"failed\"}",
        "xorpay_gauges_read_failures_total",
    ] {
        assert_eq!(samples.get(key), Some(&0.0), "{key} in:\n{text}");
    }
    // Each query was timed.
    let queries = at("xorpay_requests_total{endpoint=\"query2\",outcome=\"ok\"}");
    assert!(queries >= 1.0, "{text}");
    assert_eq!(
        at("xorpay_request_duration_seconds_count{endpoint=\"query2\"}"),
        total("xorpay_requests_total{endpoint=\"query2\""),
        "{text}"
    );

    // Described: a help line for each metric, the duration in seconds.
    assert!(
        text.contains("# HELP xorpay_notifications_total Notifications received"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE xorpay_request_duration_seconds histogram"),
        "{text}"
    );
    // Every metric in the exposition is one xorpay lists, under the name it documents.
    let listed: Vec<String> = xorpay::metrics::METRICS
        .iter()
        .map(|metric| metric.prometheus_name())
        .collect();
    for line in text.lines().filter(|line| line.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(
            listed.iter().any(|listed| listed == name),
            "{name} is not in xorpay::metrics::METRICS"
        );
    }

    promtool_check(&text).await;
    running.stop().await;
}

/// `promtool check metrics` on the exposition: skipped without promtool, unless
/// XORPAY_REQUIRE_PROMTOOL is set (the README's test command sets it and installs it).
async fn promtool_check(text: &str) {
    use tokio::io::AsyncWriteExt as _;
    let child = tokio::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            assert!(
                std::env::var_os("XORPAY_REQUIRE_PROMTOOL").is_none(),
                "promtool is required: {error}"
            );
            eprintln!("promtool not found ({error}): the format check is skipped");
            return;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).await.unwrap();
    drop(stdin);
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
