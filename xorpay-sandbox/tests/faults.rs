//! Route faults over real HTTP: HTTP 500, the gateway's HTML error page, a delay past the
//! client's timeout, a dropped connection; how many requests each applies to; every route can
//! be faulted and the sandbox's own routes never are.

#[macro_use]
mod common;

use std::time::Duration;

use common::{AID, Req, SECRET, client, create, get, md5, sandbox};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use xorpay_sandbox::{FaultTimes, Route, RouteFault, Sandbox};

/// A plain, valid request to `route` and what it answers when not faulted.
async fn request(sandbox: &Sandbox, route: Route, aoid: &str) -> reqwest::RequestBuilder {
    let base = sandbox.base_url();
    let http = client();
    let form = |req: Req| {
        http.post(req.url(sandbox, AID))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(req.body())
    };
    match route {
        Route::Pay => form(Req::pay("native", &format!("f-{}", uuid()))),
        Route::Cashier => form(
            Req::new(common::Endpoint::Cashier, "jsapi", &format!("f-{}", uuid())).signed(SECRET),
        ),
        Route::Barcode => form(
            Req::new(
                common::Endpoint::Barcode,
                "wechat_barcode",
                &format!("f-{}", uuid()),
            )
            .signed(SECRET),
        ),
        Route::Openid => http.get(format!(
            "{base}/api/openid/{AID}?callback=http%3A%2F%2Fs%2F%3Fa%3D1"
        )),
        Route::Query => http.get(format!("{base}/api/query/{aoid}")),
        Route::Query2 => http.get(format!(
            "{base}/api/query2/{AID}?order_id=none&sign={}",
            md5(&["none", SECRET])
        )),
        Route::Refund => http
            .post(format!("{base}/api/refund/{aoid}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("price=0.01&sign={}", md5(&["0.01", SECRET]))),
        Route::Qr => http.get(format!("{base}/qr?data=hello")),
        _ => unreachable!("a route this test does not know"),
    }
}

fn uuid() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst).to_string()
}

/// The status of the answer when the route is not faulted.
fn healthy(route: Route) -> u16 {
    match route {
        Route::Openid => 302,
        _ => 200,
    }
}

#[tokio::test]
async fn every_route_answers_500_once_then_recovers() {
    let sandbox = sandbox().await;
    let aoid = create(&sandbox, &Req::pay("native", "base")).await;
    for (index, route) in Route::ALL.into_iter().enumerate() {
        sandbox.inject_route_fault(route, RouteFault::Http500, FaultTimes::Once);
        // Other routes are unaffected while it is set.
        let other = Route::ALL[(index + 1) % Route::ALL.len()];
        let response = request(&sandbox, other, &aoid).await.send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            healthy(other),
            "{other:?} while {route:?} is faulted"
        );
        let answer =
            common::Answer::read(request(&sandbox, route, &aoid).await.send().await.unwrap()).await;
        assert_eq!(answer.status, 500, "{route:?}");
        assert_eq!(answer.body, "Internal Server Error");
        assert!(answer.content_type.starts_with("text/plain"));
        // It is used up after one request.
        let response = request(&sandbox, route, &aoid).await.send().await.unwrap();
        assert_eq!(response.status().as_u16(), healthy(route), "{route:?}");
    }
}

#[tokio::test]
async fn html_error_page_is_a_502_from_the_gateway() {
    let sandbox = sandbox().await;
    sandbox.inject_route_fault(Route::Pay, RouteFault::HtmlError, FaultTimes::Once);
    let answer = Req::pay("native", "html").send(&sandbox).await;
    assert_eq!(answer.status, 502);
    assert!(answer.content_type.starts_with("text/html"));
    assert!(answer.body.contains("<title>502 Bad Gateway</title>"));
    assert!(serde_json::from_str::<serde_json::Value>(&answer.body).is_err());
    // The faulted request created nothing; the same request now works.
    assert!(sandbox.order_by_order_id("html").is_none());
    assert_eq!(Req::pay("native", "html").send(&sandbox).await.code(), "ok");
}

#[tokio::test]
async fn delay_outlasts_the_clients_timeout() {
    let sandbox = sandbox().await;
    let aoid = create(&sandbox, &Req::pay("native", "slow")).await;
    sandbox.inject_route_fault(
        Route::Query,
        RouteFault::delay(Duration::from_millis(600)),
        FaultTimes::Times(2),
    );
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let url = format!("{}/api/query/{aoid}", sandbox.base_url());
    let error = impatient.get(&url).send().await.unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    // A patient client gets the normal answer, after the delay.
    let started = tokio::time::Instant::now();
    assert_eq!(get(&url).await.code(), "new");
    assert!(started.elapsed() >= Duration::from_millis(600));
    // Both delays used: back to normal (checked without a timeout, which a busy machine
    // could trip).
    assert_eq!(get(&url).await.code(), "new");
    assert!(sandbox.order(&aoid).is_some());
}

#[tokio::test]
async fn dropped_connection_has_no_response() {
    let sandbox = sandbox().await;
    sandbox.inject_route_fault(Route::Pay, RouteFault::DropConnection, FaultTimes::Once);
    let req = Req::pay("native", "drop");
    let error = client()
        .post(req.url(&sandbox, AID))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(req.body())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_timeout(), "{error:?}");
    assert!(error.status().is_none());
    assert!(error.is_request() || error.is_connect(), "{error:?}");

    // At the TCP level: the request is read, then the socket closes with nothing written.
    sandbox.inject_route_fault(Route::Query, RouteFault::DropConnection, FaultTimes::Once);
    let mut stream = tokio::net::TcpStream::connect(sandbox.local_addr())
        .await
        .unwrap();
    stream
        .write_all(b"GET /api/query/abc HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        .await
        .unwrap();
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received))
        .await
        .expect("the sandbox closes the connection");
    // EOF, or a reset; either way not one byte of a response.
    if let Err(error) = read {
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    }
    assert!(
        received.is_empty(),
        "{}",
        String::from_utf8_lossy(&received)
    );

    // Used up: the next request is answered.
    assert_eq!(Req::pay("native", "drop").send(&sandbox).await.code(), "ok");
}

#[tokio::test]
async fn counts_once_n_times_always() {
    let sandbox = sandbox().await;
    let url = format!("{}/qr?data=x", sandbox.base_url());
    let statuses = async |n: usize| {
        let mut statuses = Vec::new();
        for _ in 0..n {
            statuses.push(get(&url).await.status);
        }
        statuses
    };
    sandbox.inject_route_fault(Route::Qr, RouteFault::Http500, FaultTimes::Times(3));
    assert_eq!(statuses(4).await, [500, 500, 500, 200]);
    sandbox.inject_route_fault(Route::Qr, RouteFault::HtmlError, FaultTimes::Always);
    assert_eq!(statuses(5).await, [502; 5]);
    // A new fault replaces the route's previous one.
    sandbox.inject_route_fault(Route::Qr, RouteFault::Http500, FaultTimes::Once);
    assert_eq!(statuses(2).await, [500, 200]);
    sandbox.inject_route_fault(Route::Qr, RouteFault::HtmlError, FaultTimes::Always);
    sandbox.clear_route_faults();
    assert_eq!(statuses(1).await, [200]);
}

#[tokio::test]
async fn sandbox_routes_are_never_faulted_and_faults_are_configurable_as_json() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url().to_owned();
    let http = client();
    let configured = http
        .post(format!("{base}/_sandbox/faults"))
        .json(&serde_json::json!({
            "route": "refund", "fault": { "kind": "delay", "ms": 10 }, "times": "always"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(configured.status(), 200);
    let configured = http
        .post(format!("{base}/_sandbox/faults"))
        .json(&serde_json::json!({ "route": "query", "fault": { "kind": "http500" }, "times": 2 }))
        .send()
        .await
        .unwrap();
    let list: serde_json::Value = configured.json().await.unwrap();
    assert_eq!(
        list,
        serde_json::json!([
            { "route": "query", "fault": { "kind": "http500" }, "times": 2 },
            { "route": "refund", "fault": { "kind": "delay", "ms": 10 }, "times": "always" },
        ])
    );
    // Bad configuration is refused.
    let bad = http
        .post(format!("{base}/_sandbox/faults"))
        .json(&serde_json::json!({ "route": "nowhere", "fault": { "kind": "http500" } }))
        .send()
        .await
        .unwrap();
    assert!(bad.status().is_client_error());

    // Everything under /_sandbox/ works while every XorPay route is faulted.
    for route in Route::ALL {
        sandbox.inject_route_fault(route, RouteFault::DropConnection, FaultTimes::Always);
    }
    for path in [
        "/_sandbox/orders",
        "/_sandbox/faults",
        "/_sandbox/merchant",
        "/_sandbox/jsbridge.js",
    ] {
        assert_eq!(get(&format!("{base}{path}")).await.status, 200, "{path}");
    }
    let cleared = http
        .delete(format!("{base}/_sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let list: serde_json::Value = get(&format!("{base}/_sandbox/faults")).await.json();
    assert_eq!(list, serde_json::json!([]));
    assert_eq!(
        get(&format!("{base}/api/query/x")).await.code(),
        "not_exist"
    );
}

/// Sets a route fault through `POST /_sandbox/faults`, as a script would.
async fn fault_by_json(sandbox: &Sandbox, rule: serde_json::Value) {
    let answer = client()
        .post(format!("{}/_sandbox/faults", sandbox.base_url()))
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{rule}: {:?}", answer.text().await);
}

/// `answer_lost`: XorPay did it, and the answer never came back. The order is created, the
/// code charged, the refund made; the connection closes with nothing written.
#[tokio::test]
async fn answer_lost_commits_the_effect_then_drops_the_connection() {
    let sandbox = sandbox().await;
    let lost = async |req: &Req, path: String| {
        let answer = client()
            .post(format!("{}{path}", sandbox.base_url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(req.body())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let error = answer.expect_err("no answer comes back");
        assert!(!error.is_timeout(), "{error:?}");
        assert!(error.status().is_none());
    };

    fault_by_json(
        &sandbox,
        serde_json::json!({"route": "pay", "fault": {"kind": "answer_lost"}}),
    )
    .await;
    let pay = Req::pay("native", "lost-pay").signed(SECRET);
    lost(&pay, format!("/api/pay/{AID}")).await;
    let created = sandbox
        .order_by_order_id("lost-pay")
        .expect("the order was created");
    assert_eq!(created.state, xorpay_sandbox::OrderState::New);
    // The identical re-submission gets the very answer that was lost.
    let again = pay.send(&sandbox).await;
    assert_eq!(again.code(), "ok");
    assert_eq!(again.json()["aoid"], created.aoid);

    fault_by_json(
        &sandbox,
        serde_json::json!({"route": "barcode", "fault": {"kind": "answer_lost"}}),
    )
    .await;
    let scan = Req::new(common::Endpoint::Barcode, "wechat_barcode", "lost-scan")
        .set("barcode", "134657556554411111")
        .signed(SECRET);
    lost(&scan, format!("/api/barcode_pay/{AID}")).await;
    let charged = sandbox
        .order_by_order_id("lost-scan")
        .expect("the code was charged");
    assert!(charged.state.is_paid(), "{:?}", charged.state);

    let receiver = common::Receiver::ok().await;
    let paid = Req::new(common::Endpoint::Pay, "native", "lost-refund")
        .set("notify_url", &receiver.url)
        .signed(SECRET);
    let aoid = create(&sandbox, &paid).await;
    sandbox.pay(&aoid).await.unwrap();
    let success = sandbox
        .wait_for(&aoid, Duration::from_secs(5), |order| {
            order.state == xorpay_sandbox::OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(
        success.state,
        xorpay_sandbox::OrderState::Success,
        "{success:?}"
    );
    fault_by_json(
        &sandbox,
        serde_json::json!({"route": "refund", "fault": {"kind": "answer_lost"}}),
    )
    .await;
    let refund = client()
        .post(format!("{}/api/refund/{aoid}", sandbox.base_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("price=0.01&sign={}", md5(&["0.01", SECRET])))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    assert!(refund.is_err());
    assert_eq!(
        sandbox.order(&aoid).unwrap().refunds.len(),
        1,
        "the refund was made"
    );
}

/// `answer_late`: the effect is committed at once, the answer comes after `ms`.
#[tokio::test]
async fn answer_late_commits_the_effect_then_answers_late() {
    let sandbox = sandbox().await;
    fault_by_json(
        &sandbox,
        serde_json::json!({"route": "pay", "fault": {"kind": "answer_late", "ms": 1500}}),
    )
    .await;
    let pay = Req::pay("native", "late-pay").signed(SECRET);
    let url = pay.url(&sandbox, AID);
    let body = pay.body();
    let pending = tokio::spawn(async move {
        client()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    // Committed before the answer: the order exists while the request still waits.
    let created = common::eventually("the order to exist", Duration::from_secs(1), || {
        sandbox.order_by_order_id("late-pay")
    })
    .await;
    assert!(!pending.is_finished());
    let answer: serde_json::Value = serde_json::from_str(&pending.await.unwrap()).unwrap();
    assert_eq!(answer["status"], "ok");
    assert_eq!(answer["aoid"], created.aoid);
}
