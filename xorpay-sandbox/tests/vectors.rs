//! The shared signature vectors (`tests/data/signatures.json`, computed outside the project):
//! requests carrying exactly those values and signatures are accepted by a sandbox holding
//! each vector's secret, a wrong signature gets `sign_error`, and uppercase hex is accepted
//! unless the sandbox is strict.

#[macro_use]
mod common;

use std::time::Duration;

use common::{AID, Endpoint, Receiver, Req, form, get, md5, post_form};
use serde_json::Value;
use xorpay_sandbox::{OrderState, Sandbox};

fn vectors() -> Value {
    serde_json::to_value(xorpay_testkit::vectors::load()).unwrap()
}

fn text<'a>(vector: &'a Value, key: &str) -> &'a str {
    vector[key].as_str().unwrap()
}

/// Flips the last hex digit.
fn wrong(sign: &str) -> String {
    let (head, last) = sign.split_at(sign.len() - 1);
    format!("{head}{}", if last == "0" { "1" } else { "0" })
}

async fn start(secret: &str, strict: bool) -> Sandbox {
    xorpay_sandbox::Sandbox::builder()
        .aid(common::AID)
        .secret(secret)
        .notify_timeout(std::time::Duration::from_secs(5))
        .strict_lowercase_sign(strict)
        .retry_unit(common::RETRY_UNIT)
        .build()
        .start()
        .await
        .unwrap()
}

/// A create-order request made of the vector's values and its signature, nothing recomputed.
fn request(vector: &Value, endpoint: Endpoint, sign: &str, sandbox: &Sandbox) -> Req {
    let mut req = Req {
        endpoint,
        fields: Vec::new(),
    };
    for key in [
        "name",
        "pay_type",
        "price",
        "order_id",
        "notify_url",
        "barcode",
    ] {
        if let Some(value) = vector[key].as_str() {
            req = req.set(key, value);
        }
    }
    if endpoint == Endpoint::Pay && text(vector, "pay_type") == "jsapi" {
        // Not signed: adding it leaves the vector's signature valid.
        req = req.set("openid", &sandbox.issue_openid());
    }
    req.set("sign", sign)
}

#[tokio::test]
async fn pay_and_cashier_vectors() {
    let vectors = vectors();
    for vector in vectors["pay"].as_array().unwrap() {
        let endpoint = match text(vector, "endpoint") {
            "cashier" => Endpoint::Cashier,
            _ => Endpoint::Pay,
        };
        let accepted = if endpoint == Endpoint::Cashier {
            "html"
        } else {
            "ok"
        };
        let sign = text(vector, "sign");
        let label = text(vector, "order_id");

        let sandbox = start(text(vector, "secret"), false).await;
        let lower = request(vector, endpoint, sign, &sandbox)
            .send(&sandbox)
            .await;
        assert_eq!(lower.code(), accepted, "{label}");
        let order = sandbox.order_by_order_id(label).unwrap();
        assert_eq!(order.name, text(vector, "name"));
        assert_eq!(order.notify_url, text(vector, "notify_url"));

        let sandbox = start(text(vector, "secret"), false).await;
        let wrong_sign = request(vector, endpoint, &wrong(sign), &sandbox);
        assert_eq!(
            wrong_sign.send(&sandbox).await.code(),
            "sign_error",
            "{label}"
        );
        let upper = request(vector, endpoint, &sign.to_uppercase(), &sandbox);
        assert_eq!(upper.send(&sandbox).await.code(), accepted, "{label}");

        let strict = start(text(vector, "secret"), true).await;
        let upper = request(vector, endpoint, &sign.to_uppercase(), &strict);
        assert_eq!(upper.send(&strict).await.code(), "sign_error", "{label}");
        let lower = request(vector, endpoint, sign, &strict);
        assert_eq!(lower.send(&strict).await.code(), accepted, "{label}");

        // The vector's values with another secret are refused.
        let other = start("another-secret", false).await;
        let req = request(vector, endpoint, sign, &other);
        assert_eq!(req.send(&other).await.code(), "sign_error", "{label}");
    }
}

#[tokio::test]
async fn cashier_vector_by_get_as_a_browser_navigates() {
    let vectors = vectors();
    let vector = vectors["pay"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["endpoint"] == "cashier")
        .unwrap();
    let sandbox = start(text(vector, "secret"), false).await;
    let req = request(vector, Endpoint::Cashier, text(vector, "sign"), &sandbox);
    let url = format!("{}?{}", req.url(&sandbox, AID), req.body());
    let answer = get(&url).await;
    assert_eq!(answer.code(), "html");
    assert!(answer.body.contains(text(vector, "name")));
    assert!(answer.body.contains("¥8.88"));
}

#[tokio::test]
async fn barcode_vectors() {
    let vectors = vectors();
    for vector in vectors["barcode"].as_array().unwrap() {
        let sign = text(vector, "sign");
        let sandbox = start(text(vector, "secret"), false).await;
        let answer = request(vector, Endpoint::Barcode, sign, &sandbox)
            .send(&sandbox)
            .await;
        assert_eq!(answer.code(), "success", "{vector}");
        let sandbox = start(text(vector, "secret"), false).await;
        let answer = request(vector, Endpoint::Barcode, &wrong(sign), &sandbox)
            .send(&sandbox)
            .await;
        assert_eq!(answer.code(), "sign_error", "{vector}");
        let strict = start(text(vector, "secret"), true).await;
        let answer = request(vector, Endpoint::Barcode, &sign.to_uppercase(), &strict)
            .send(&strict)
            .await;
        assert_eq!(answer.code(), "sign_error", "{vector}");
    }
}

#[tokio::test]
async fn query2_vectors() {
    let vectors = vectors();
    for vector in vectors["query2"].as_array().unwrap() {
        let order_id = text(vector, "order_id");
        let sign = text(vector, "sign");
        for strict in [false, true] {
            let sandbox = start(text(vector, "secret"), strict).await;
            // An order with that order_id, created with the test's own signature.
            let create = Req::new(Endpoint::Pay, "native", order_id).signed(text(vector, "secret"));
            assert_eq!(create.send(&sandbox).await.code(), "ok");
            let query = |sign: &str| {
                format!(
                    "{}/api/query2/{AID}?{}",
                    sandbox.base_url(),
                    form(&[
                        ("order_id".into(), order_id.into()),
                        ("sign".into(), sign.into())
                    ])
                )
            };
            assert_eq!(get(&query(sign)).await.code(), "new", "{order_id}");
            assert_eq!(get(&query(&wrong(sign))).await.code(), "sign_error");
            let upper = get(&query(&sign.to_uppercase())).await.code();
            assert_eq!(upper, if strict { "sign_error" } else { "new" });
        }
    }
}

#[tokio::test]
async fn refund_vectors() {
    let vectors = vectors();
    let receiver = Receiver::ok().await;
    for vector in vectors["refund"].as_array().unwrap() {
        let secret = text(vector, "secret");
        let price = text(vector, "price");
        let sign = text(vector, "sign");
        let sandbox = start(secret, false).await;
        // A paid, acknowledged order of exactly the refund's amount.
        let req = Req::new(Endpoint::Pay, "native", "refund-vector")
            .set("price", price)
            .set("notify_url", &receiver.url)
            .signed(secret);
        let aoid = common::create(&sandbox, &req).await;
        sandbox.pay(&aoid).await.unwrap();
        let order = sandbox
            .wait_for(&aoid, Duration::from_secs(10), |o| {
                o.state == OrderState::Success
            })
            .await
            .unwrap();
        assert_eq!(order.state, OrderState::Success);
        let url = format!("{}/api/refund/{aoid}", sandbox.base_url());
        let answer = post_form(&url, &[("price", price), ("sign", &wrong(sign))]).await;
        assert_eq!(answer.code(), "sign_error");
        let answer = post_form(&url, &[("price", price), ("sign", sign)]).await;
        assert_eq!(answer.code(), "ok", "{vector}");
        assert_eq!(sandbox.order(&aoid).unwrap().refunds.len(), 1);
    }
}

#[tokio::test]
async fn notification_signatures_follow_the_notify_vector_method() {
    // The sandbox chooses aoid and pay_time itself, so the notify vectors cannot be replayed
    // literally; instead the vectors' method is checked against the vectors first, then
    // applied to what the sandbox sent.
    let vectors = vectors();
    for vector in vectors["notify"].as_array().unwrap() {
        let computed = md5(&[
            text(vector, "aoid"),
            text(vector, "order_id"),
            text(vector, "pay_price"),
            text(vector, "pay_time"),
            text(vector, "secret"),
        ]);
        assert_eq!(computed, text(vector, "sign"));
    }
    let receiver = Receiver::ok().await;
    let sandbox = start("mock_secret", false).await;
    let req = Req::new(Endpoint::Pay, "native", "order-1")
        .set("price", "50.00")
        .set("notify_url", &receiver.url)
        .signed("mock_secret");
    let aoid = common::create(&sandbox, &req).await;
    sandbox.pay(&aoid).await.unwrap();
    common::eventually("the notification", Duration::from_secs(10), || {
        receiver.hits().first().cloned()
    })
    .await;
    let hit = &receiver.hits()[0];
    let field = |key: &str| hit.fields[key].as_str();
    assert_eq!(
        field("sign"),
        md5(&[
            field("aoid"),
            field("order_id"),
            field("pay_price"),
            field("pay_time"),
            "mock_secret"
        ])
    );
}
