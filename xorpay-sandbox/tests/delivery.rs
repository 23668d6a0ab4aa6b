//! Notification delivery over real HTTP to a small receiver: the fields and their signature
//! (checked by the test's own MD5 and by `xorpay_core`, two implementations other than the
//! sandbox's), retries under a compressed unit, giving up, and each per-order fault.

#[macro_use]
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::{Endpoint, Hit, Receiver, Req, SECRET, client, create, eventually, md5, query};
use tokio::sync::Semaphore;
use xorpay_core::{Aoid, AppSecret, ExpectedPayment, Notification, Price};
use xorpay_sandbox::{DeliveryState, NotificationKind, OrderFault, OrderState, Sandbox};

const GAPS: [u32; 6] = [1, 2, 4, 16, 64, 300];

/// An unpaid native order of 12.30 that notifies `receiver`.
async fn order_for(sandbox: &Sandbox, receiver: &Receiver, order_id: &str) -> String {
    let req = Req::new(Endpoint::Pay, "native", order_id)
        .set("notify_url", &receiver.url)
        .set("price", "12.30")
        .signed(SECRET);
    create(sandbox, &req).await
}

fn verify(hit: &Hit) -> Result<xorpay_core::VerifiedNotification, xorpay_core::NotificationError> {
    Notification::parse(&hit.body)?.verify(&AppSecret::new(SECRET).unwrap())
}

async fn wait_delivery(sandbox: &Sandbox, aoid: &str, state: DeliveryState) {
    let order = sandbox
        .wait_for(aoid, Duration::from_secs(20), |o| o.delivery == state)
        .await
        .unwrap();
    assert_eq!(order.delivery, state, "{order:?}");
}

#[tokio::test]
async fn notification_fields_and_signature() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let req = Req::new(Endpoint::Pay, "native", "ORD/2026/11/27#1")
        .set("notify_url", &receiver.url)
        .set("price", "1")
        .set("more", "备注 & more=1")
        .signed(SECRET);
    let aoid = create(&sandbox, &req).await;
    let before = SystemTime::now();
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;

    let hits = receiver.hits();
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.content_type, "application/x-www-form-urlencoded");
    let keys: BTreeSet<&str> = hit.fields.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "aoid",
            "order_id",
            "pay_price",
            "pay_time",
            "more",
            "detail",
            "sign"
        ])
    );
    let field = |key: &str| hit.fields[key].as_str();
    assert_eq!(field("aoid"), aoid);
    assert_eq!(field("order_id"), "ORD/2026/11/27#1");
    // The price was sent as "1"; the notification carries the amount with two decimals.
    assert_eq!(field("pay_price"), "1.00");
    assert_eq!(field("more"), "备注 & more=1");

    // pay_time: YYYY-MM-DD HH:MM:SS in China time, a moment after `before`.
    let pay_time = field("pay_time");
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let parsed = time::PrimitiveDateTime::parse(pay_time, format)
        .unwrap()
        .assume_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap());
    let before = time::OffsetDateTime::from(before);
    assert!(parsed >= before - time::Duration::seconds(1), "{pay_time}");
    assert!(parsed <= before + time::Duration::seconds(60), "{pay_time}");

    // The signature, lowercase, by the vectors' method…
    let sign = md5(&[
        field("aoid"),
        field("order_id"),
        field("pay_price"),
        pay_time,
        SECRET,
    ]);
    assert_eq!(field("sign"), sign);
    // …and by the core's verifier, with the payment matching the order.
    let verified = verify(hit).unwrap();
    let aoid_value = Aoid::new(aoid.clone()).unwrap();
    verified
        .check(&ExpectedPayment {
            aoid: &aoid_value,
            order_id: "ORD/2026/11/27#1",
            price: Price::from_fen(100).unwrap(),
        })
        .unwrap();
    let detail = verified.unverified_payment_detail();
    assert!(detail.transaction_id.unwrap().starts_with("4200"));
    assert!(detail.bank_type.is_some());
    assert!(detail.buyer.is_some());

    // The record: one genuine attempt, acknowledged; the order is success.
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.state, OrderState::Success);
    assert_eq!(order.deliveries.len(), 1);
    let attempt = &order.deliveries[0];
    assert_eq!(
        (attempt.attempt, attempt.kind),
        (1, NotificationKind::Genuine)
    );
    assert_eq!(attempt.status, Some(200));
    assert_eq!(attempt.body, "ok");
    assert!(attempt.acknowledged);
    assert_eq!(
        attempt.fields.get("sign").map(String::as_str),
        Some(sign.as_str())
    );
    assert_eq!(query(&sandbox, &aoid).await, "success");
}

#[tokio::test]
async fn alipay_detail_and_empty_more() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let req = Req::new(Endpoint::Pay, "alipay", "ali-1")
        .set("notify_url", &receiver.url)
        .signed(SECRET);
    let aoid = create(&sandbox, &req).await;
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;
    let hit = &receiver.hits()[0];
    assert_eq!(hit.fields["more"], "");
    let detail: serde_json::Value = serde_json::from_str(&hit.fields["detail"]).unwrap();
    assert_eq!(detail["bank_type"], "ALIPAYACCOUNT");
    verify(hit).unwrap();
}

/// Asserts that consecutive hits are at least the schedule's gaps apart (lower bounds only).
fn assert_spacing(hits: &[Hit], unit: Duration) {
    for (index, pair) in hits.windows(2).enumerate() {
        let gap = pair[1].at.duration_since(pair[0].at);
        let least = unit * GAPS[index];
        assert!(gap >= least, "gap {index}: {gap:?} < {least:?}");
    }
}

#[tokio::test]
async fn retries_until_acknowledged() {
    let unit = Duration::from_millis(10);
    let receiver = Receiver::failing(3, 500).await;
    let sandbox = builder!()
        .retry_unit(unit)
        .notify_timeout(common::NOTIFY_TIMEOUT)
        .build()
        .start()
        .await
        .unwrap();
    let aoid = order_for(&sandbox, &receiver, "retry-1").await;
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;

    // Exactly N + 1 attempts, spaced at least 1, 2, 4 units.
    let hits = receiver.hits();
    assert_eq!(hits.len(), 4);
    assert_eq!(
        hits.iter().map(|h| h.answered).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );
    assert_spacing(&hits, unit);
    // Every attempt carried the same genuine notification.
    assert!(hits.iter().all(|h| h.body == hits[0].body));

    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.state, OrderState::Success);
    let attempts = &order.deliveries;
    assert_eq!(
        attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        attempts.iter().map(|a| a.status).collect::<Vec<_>>(),
        [Some(500), Some(500), Some(500), Some(200)]
    );
    assert_eq!(attempts[0].body, "fail");
    for (index, pair) in attempts.windows(2).enumerate() {
        let least = u64::try_from((unit * GAPS[index]).as_millis()).unwrap();
        assert!(pair[1].offset_ms - pair[0].offset_ms >= least);
    }
}

#[tokio::test]
async fn all_seven_attempts_fail_and_the_order_stays_payed() {
    let unit = Duration::from_millis(5);
    let receiver = Receiver::failing(usize::MAX, 404).await;
    let sandbox = builder!()
        .retry_unit(unit)
        .notify_timeout(common::NOTIFY_TIMEOUT)
        .build()
        .start()
        .await
        .unwrap();
    let aoid = order_for(&sandbox, &receiver, "never").await;
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::GaveUp).await;

    let hits = receiver.hits();
    assert_eq!(hits.len(), 7);
    assert_spacing(&hits, unit);
    let total = hits[6].at.duration_since(hits[0].at);
    assert!(total >= unit * 387, "{total:?}");
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.state, OrderState::Payed);
    assert_eq!(order.deliveries.len(), 7);
    assert!(order.deliveries.iter().all(|a| !a.acknowledged));
    assert_eq!(query(&sandbox, &aoid).await, "payed");
    // Not refundable: never acknowledged.
    assert_eq!(common::refund(&sandbox, &aoid, "0.01").await, "order_error");
}

#[tokio::test]
async fn connection_errors_and_timeouts_are_failures() {
    // Nothing listens: every attempt is a connection error.
    let unit = Duration::from_millis(1);
    let sandbox = builder!()
        .retry_unit(unit)
        .notify_timeout(common::NOTIFY_TIMEOUT)
        .build()
        .start()
        .await
        .unwrap();
    let aoid = create(&sandbox, &Req::pay("native", "refused")).await; // notify_url: port 9
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::GaveUp).await;
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.deliveries.len(), 7);
    for attempt in &order.deliveries {
        assert_eq!(attempt.status, None);
        assert!(
            attempt.error.as_deref().unwrap().contains("refused"),
            "{attempt:?}"
        );
    }

    // A receiver slower than the notification timeout fails the attempt; the next one works.
    let receiver = Receiver::start(Arc::new(|index, _| {
        let delay = if index == 0 {
            Duration::from_secs(30)
        } else {
            Duration::ZERO
        };
        (200, delay)
    }))
    .await;
    let sandbox = builder!()
        .retry_unit(Duration::from_millis(10))
        .notify_timeout(Duration::from_millis(1000))
        .build()
        .start()
        .await
        .unwrap();
    let aoid = order_for(&sandbox, &receiver, "slow").await;
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.deliveries.len(), 2);
    assert_eq!(order.deliveries[0].status, None);
    assert_eq!(
        order.deliveries[0].error.as_deref(),
        Some("no answer within 1000 ms")
    );
    assert_eq!(order.deliveries[1].status, Some(200));

    // A redirect is not an acknowledgement either.
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(|| async { axum::response::Redirect::to("/elsewhere") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sandbox = builder!()
        .retry_unit(unit)
        .notify_timeout(common::NOTIFY_TIMEOUT)
        .build()
        .start()
        .await
        .unwrap();
    let req = Req::new(Endpoint::Pay, "native", "redirect")
        .set("notify_url", &url)
        .signed(SECRET);
    let aoid = create(&sandbox, &req).await;
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::GaveUp).await;
    assert!(
        sandbox
            .deliveries(&aoid)
            .iter()
            .all(|a| a.status == Some(303))
    );
    server.abort();
}

/// A receiver on a raw socket: it reads one request whole, writes `answer`, then waits
/// `linger` before closing the connection.
async fn raw_receiver(
    answer: &'static [u8],
    linger: Duration,
) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let read = socket.read(&mut buffer).await.unwrap();
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request);
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|line| {
                            let (name, value) = line.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length || read == 0 {
                        break;
                    }
                }
            }
            socket.write_all(answer).await.unwrap();
            tokio::time::sleep(linger).await;
        }
    });
    (url, server)
}

/// Any HTTP 200 acknowledges (§7): a body that breaks off, or stalls past the timeout, after
/// the status only leaves the logged excerpt short.
#[tokio::test]
async fn a_200_whose_body_breaks_off_still_acknowledges() {
    let cases: [(&str, &[u8], Duration); 2] = [
        // The connection closes 93 bytes short of the announced length.
        (
            "cut",
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsuccess",
            Duration::ZERO,
        ),
        // The rest of the body never comes.
        (
            "stalled",
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsuccess",
            Duration::from_secs(30),
        ),
    ];
    for (order_id, answer, linger) in cases {
        let (url, server) = raw_receiver(answer, linger).await;
        let sandbox = builder!()
            .retry_unit(Duration::from_millis(1))
            .notify_timeout(Duration::from_millis(500))
            .build()
            .start()
            .await
            .unwrap();
        let req = Req::new(Endpoint::Pay, "native", order_id)
            .set("notify_url", &url)
            .signed(SECRET);
        let aoid = create(&sandbox, &req).await;
        sandbox.pay(&aoid).await.unwrap();
        wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;
        let order = sandbox.order(&aoid).unwrap();
        assert_eq!(order.state, OrderState::Success, "{order_id}");
        assert_eq!(order.deliveries.len(), 1, "{order_id}: {order:?}");
        let attempt = &order.deliveries[0];
        assert_eq!(attempt.status, Some(200), "{order_id}");
        assert!(attempt.acknowledged, "{order_id}");
        assert_eq!(attempt.body, "success", "{order_id}");
        assert!(
            attempt
                .error
                .as_deref()
                .is_some_and(|error| error.starts_with("body cut short")),
            "{order_id}: {attempt:?}"
        );
        server.abort();
    }
}

#[tokio::test]
async fn duplicate_notification() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let aoid = order_for(&sandbox, &receiver, "dup").await;
    sandbox
        .set_order_fault(&aoid, OrderFault::Duplicate)
        .unwrap();
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].body, hits[1].body);
    verify(&hits[1]).unwrap();
    // In a row: the second arrived after the first was answered.
    let kinds: Vec<_> = sandbox.deliveries(&aoid).iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [NotificationKind::Genuine, NotificationKind::Duplicate]
    );
    assert_eq!(sandbox.order(&aoid).unwrap().state, OrderState::Success);
}

#[tokio::test]
async fn concurrent_notifications() {
    // The receiver holds every request until the test opens the gate. Had the sandbox sent
    // the copies one after another, only one would ever arrive while the gate is shut.
    let gate = Arc::new(Semaphore::new(0));
    let receiver =
        Receiver::start_gated(Arc::new(|_, _| (200, Duration::ZERO)), Some(gate.clone())).await;
    let sandbox = sandbox_with!();
    let aoid = order_for(&sandbox, &receiver, "concurrent").await;
    // Set through the sandbox route, as with the binary.
    let response = client()
        .put(format!(
            "{}/_sandbox/orders/{aoid}/fault",
            sandbox.base_url()
        ))
        .json(&serde_json::json!({ "kind": "concurrent", "copies": 3 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let order: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        order["fault"],
        serde_json::json!({ "kind": "concurrent", "copies": 3 })
    );
    sandbox.pay(&aoid).await.unwrap();
    eventually("three requests at once", Duration::from_secs(10), || {
        (receiver.arrivals() == 3).then_some(())
    })
    .await;
    assert!(receiver.hits().is_empty());
    gate.add_permits(3);
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3);
    assert!(hits.iter().all(|h| h.body == hits[0].body));
    let attempts = sandbox.deliveries(&aoid);
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a.kind == NotificationKind::Concurrent && a.attempt == 1)
    );
}

#[tokio::test]
async fn tampered_notifications_fail_verification() {
    for (fault, kind) in [
        (OrderFault::TamperedAmount, NotificationKind::TamperedAmount),
        (
            OrderFault::TamperedSignature,
            NotificationKind::TamperedSignature,
        ),
    ] {
        // A correct shop: 200 only for what the core verifies.
        let receiver = common::verifying_receiver(SECRET).await;
        let sandbox = sandbox_with!();
        let aoid = order_for(&sandbox, &receiver, "tampered").await;
        sandbox.set_order_fault(&aoid, fault).unwrap();
        sandbox.pay(&aoid).await.unwrap();
        wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;

        let hits = receiver.hits();
        assert_eq!(hits.len(), 2, "{fault:?}");
        let (forged, genuine) = (&hits[0], &hits[1]);
        assert!(matches!(
            verify(forged),
            Err(xorpay_core::NotificationError::Signature(_))
        ));
        assert_eq!(forged.answered, 400);
        verify(genuine).unwrap();
        assert_eq!(genuine.answered, 200);
        assert_eq!(genuine.fields["pay_price"], "12.30");
        match fault {
            OrderFault::TamperedAmount => {
                assert_eq!(forged.fields["pay_price"], "13.30");
                assert_eq!(forged.fields["sign"], genuine.fields["sign"]);
            }
            _ => {
                assert_eq!(forged.fields["pay_price"], "12.30");
                assert_ne!(forged.fields["sign"], genuine.fields["sign"]);
            }
        }
        let attempts = sandbox.deliveries(&aoid);
        assert_eq!(
            attempts.iter().map(|a| a.kind).collect::<Vec<_>>(),
            [kind, NotificationKind::Genuine]
        );
    }
}

#[tokio::test]
async fn an_accepted_forgery_does_not_complete_the_order() {
    // A broken shop that accepts the forgery but (say) fails on the genuine one.
    let receiver = Receiver::start(Arc::new(|index, _| {
        (if index == 0 { 200 } else { 500 }, Duration::ZERO)
    }))
    .await;
    let sandbox = builder!()
        .retry_unit(Duration::from_millis(1))
        .notify_timeout(common::NOTIFY_TIMEOUT)
        .build()
        .start()
        .await
        .unwrap();
    let aoid = order_for(&sandbox, &receiver, "forgery-accepted").await;
    sandbox
        .set_order_fault(&aoid, OrderFault::TamperedAmount)
        .unwrap();
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::GaveUp).await;
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.state, OrderState::Payed);
    // 1 forgery + 7 genuine attempts.
    assert_eq!(order.deliveries.len(), 8);
    assert!(order.deliveries[0].acknowledged);
    assert_eq!(order.deliveries[0].kind, NotificationKind::TamperedAmount);
    assert_eq!(receiver.hits().len(), 8);
}

#[tokio::test]
async fn faults_only_shape_the_first_attempt() {
    let receiver = Receiver::failing(2, 500).await;
    let sandbox = sandbox_with!();
    let aoid = order_for(&sandbox, &receiver, "dup-retry").await;
    sandbox
        .set_order_fault(&aoid, OrderFault::Duplicate)
        .unwrap();
    sandbox.pay(&aoid).await.unwrap();
    wait_delivery(&sandbox, &aoid, DeliveryState::Acknowledged).await;
    let attempts = sandbox.deliveries(&aoid);
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.attempt, a.kind))
            .collect::<Vec<_>>(),
        [
            (1, NotificationKind::Genuine),
            (1, NotificationKind::Duplicate),
            (2, NotificationKind::Genuine)
        ]
    );
    // Clearing a fault works too.
    let other = order_for(&sandbox, &receiver, "cleared").await;
    sandbox
        .set_order_fault(&other, OrderFault::Duplicate)
        .unwrap();
    sandbox.clear_order_fault(&other).unwrap();
    sandbox.pay(&other).await.unwrap();
    wait_delivery(&sandbox, &other, DeliveryState::Acknowledged).await;
    assert_eq!(sandbox.deliveries(&other).len(), 1);
}

/// The delivery log across orders and a resend, over the admin routes, as `xorpay
/// deliveries` and `xorpay resend` use them: the replay carries the very same body, is logged
/// as `resent`, and changes nothing in the order.
#[tokio::test]
async fn the_delivery_log_lists_every_request_and_a_resend_replays_one_unchanged() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let first = order_for(&sandbox, &receiver, "log-1").await;
    let second = order_for(&sandbox, &receiver, "log-2").await;
    for aoid in [&first, &second] {
        sandbox.pay(aoid).await.unwrap();
        wait_delivery(&sandbox, aoid, DeliveryState::Acknowledged).await;
    }
    let base = sandbox.base_url();
    let log: serde_json::Value = client()
        .get(format!("{base}/_sandbox/deliveries"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [format!("{first}.1"), format!("{second}.1")]);
    assert_eq!(log[1]["order_id"], "log-2");
    assert_eq!(log[1]["status"], 200);
    assert_eq!(log[1]["kind"], "genuine");

    let only: serde_json::Value = client()
        .get(format!("{base}/_sandbox/deliveries?order_id=log-1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["aoid"], first.as_str());

    let resent = client()
        .post(format!("{base}/_sandbox/deliveries/{first}.1/resend"))
        .send()
        .await
        .unwrap();
    assert_eq!(resent.status(), 200);
    let resent: serde_json::Value = resent.json().await.unwrap();
    assert_eq!(resent["id"], format!("{first}.2"));
    assert_eq!(resent["kind"], "resent");
    assert_eq!(resent["status"], 200);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3, "two deliveries and one replay");
    assert_eq!(hits[2].body, hits[0].body, "the replay is the same body");
    assert_eq!(sandbox.order(&first).unwrap().state, OrderState::Success);

    for unknown in [
        format!("{first}.9"),
        format!("{first}.0"),
        "nothing".to_owned(),
    ] {
        let answer = client()
            .post(format!("{base}/_sandbox/deliveries/{unknown}/resend"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{unknown}");
    }
    assert_eq!(receiver.hits().len(), 3);
}

/// `xorpay trigger expired` and `fee_error`: a `new` order expires now, or is paid with the
/// fee refused whatever the balance; neither notifies, and neither applies to a paid order.
#[tokio::test]
async fn an_order_can_be_expired_or_made_fee_error_on_demand() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!();
    let base = sandbox.base_url().to_owned();
    let expiring = order_for(&sandbox, &receiver, "expire-me").await;
    let answer = client()
        .post(format!("{base}/_sandbox/orders/{expiring}/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(query(&sandbox, &expiring).await, "expire");
    let again = client()
        .post(format!("{base}/_sandbox/orders/{expiring}/expire"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);

    let short = order_for(&sandbox, &receiver, "fee-short").await;
    let answer = client()
        .post(format!("{base}/_sandbox/orders/{short}/fee_error"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let order = sandbox.order(&short).unwrap();
    assert_eq!(order.state, OrderState::FeeError);
    assert_eq!(order.delivery, DeliveryState::HeldBack);
    assert_eq!(query(&sandbox, &short).await, "fee_error");

    let listed: serde_json::Value = client()
        .get(format!("{base}/_sandbox/orders?order_id=fee-short"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["aoid"], short.as_str());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.hits().is_empty(), "nothing was notified");
}
