//! XorPay's routes over real HTTP: every status code each route can produce, the validation
//! order, the order-id rules, the lifecycle seen through query and query2, refunds, the
//! openid redirect and the QR renderer.

#[macro_use]
mod common;

use std::io::Cursor;
use std::time::Duration;

use common::{
    AID, Endpoint, NOWHERE, Receiver, Req, SECRET, client, create, eventually, get, md5, post_form,
    query, query2, refund, sandbox,
};
use xorpay_sandbox::{DeliveryState, OrderState, Sandbox};

/// A pay, cashier or barcode request and the status it must get.
struct Case<'a> {
    label: &'a str,
    sandbox: &'a Sandbox,
    aid: &'a str,
    req: Req,
    expect: &'a str,
}

async fn run(cases: Vec<Case<'_>>) {
    let mut failures = Vec::new();
    for case in &cases {
        let got = case.req.send_to(case.sandbox, case.aid).await.code();
        if got != case.expect {
            failures.push(format!(
                "{}: expected {}, got {got}",
                case.label, case.expect
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Sandboxes and orders in every state the order-id rules look at.
struct Fixture {
    main: Sandbox,
    poor: Sandbox,
    frozen: Sandbox,
    openid: String,
}

impl Fixture {
    async fn new() -> Fixture {
        let main = sandbox().await;
        let poor = sandbox_with!(balance_fen(Some(0)));
        let frozen = sandbox_with!(app_off(true));
        let openid = main.issue_openid();

        // One order of each reused id per endpoint, in the state its name says.
        for endpoint in [Endpoint::Pay, Endpoint::Cashier, Endpoint::Barcode] {
            let kind = endpoint.path();
            let pay_type = default_type(endpoint);
            let mk = |id: &str| {
                let req = Req::new(endpoint, pay_type, &format!("{kind}-{id}"));
                // A barcode ending in 0000 waits for the payer, so it can be left unpaid.
                let req = if endpoint == Endpoint::Barcode {
                    req.set("barcode", "134657556554410000")
                } else {
                    req
                };
                req.signed(SECRET)
            };
            for id in ["exist", "paid", "expired"] {
                let answer = mk(id).send(&main).await;
                assert!(matches!(answer.code().as_str(), "ok" | "html" | "new"));
            }
            let paid = main.order_by_order_id(&format!("{kind}-paid")).unwrap();
            main.pay(&paid.aoid).await.unwrap();
        }
        // Expires every unpaid order (XorPay's default lifetime is 7200 s; barcode orders
        // have no `expire` parameter).
        main.advance_clock(Duration::from_secs(7200));
        for endpoint in [Endpoint::Pay, Endpoint::Cashier, Endpoint::Barcode] {
            let kind = endpoint.path();
            let order = main.order_by_order_id(&format!("{kind}-expired")).unwrap();
            assert_eq!(order.state, OrderState::Expire);
            let order = main.order_by_order_id(&format!("{kind}-exist")).unwrap();
            assert_eq!(order.state, OrderState::Expire);
        }
        // Fresh unpaid ones for order_exist, created after the clock moved.
        for endpoint in [Endpoint::Pay, Endpoint::Cashier, Endpoint::Barcode] {
            let req = Req::new(
                endpoint,
                default_type(endpoint),
                &format!("{}-open", endpoint.path()),
            );
            let req = if endpoint == Endpoint::Barcode {
                req.set("barcode", "134657556554410000")
            } else {
                req
            };
            let code = req.signed(SECRET).send(&main).await.code();
            assert!(matches!(code.as_str(), "ok" | "html" | "new"), "{code}");
        }
        // The poor merchant once had money: it has a paid order of each kind.
        poor.set_balance_fen(None);
        for endpoint in [Endpoint::Pay, Endpoint::Cashier, Endpoint::Barcode] {
            let req = Req::new(
                endpoint,
                default_type(endpoint),
                &format!("{}-paid", endpoint.path()),
            );
            let req = if endpoint == Endpoint::Barcode {
                req.set("barcode", "134657556554410000")
            } else {
                req
            };
            req.signed(SECRET).send(&poor).await;
            let order = poor
                .order_by_order_id(&format!("{}-paid", endpoint.path()))
                .unwrap();
            poor.pay(&order.aoid).await.unwrap();
        }
        poor.set_balance_fen(Some(0));
        Fixture {
            main,
            poor,
            frozen,
            openid,
        }
    }
}

fn default_type(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Pay => "native",
        Endpoint::Cashier => "jsapi",
        Endpoint::Barcode => "wechat_barcode",
    }
}

/// The cases every create-order endpoint shares.
fn common_cases<'a>(fx: &'a Fixture, endpoint: Endpoint, ok: &'a str) -> Vec<Case<'a>> {
    let pay_type = default_type(endpoint);
    let kind = endpoint.path();
    let base = |id: &str| Req::new(endpoint, pay_type, &format!("{kind}-{id}"));
    let signed = |id: &str| base(id).signed(SECRET);
    let case =
        |label: &'a str, sandbox: &'a Sandbox, aid: &'a str, req: Req, expect: &'a str| Case {
            label,
            sandbox,
            aid,
            req,
            expect,
        };
    let main = &fx.main;
    let mut cases = vec![
        case("accepted", main, AID, signed("new-1"), ok),
        case("unknown aid", main, "999", signed("new-2"), "aid_not_exist"),
        case(
            "frozen account",
            &fx.frozen,
            AID,
            signed("new-3"),
            "app_off",
        ),
        case(
            "no balance for the fee",
            &fx.poor,
            AID,
            signed("new-4"),
            "fee_error",
        ),
        case(
            "wrong secret",
            main,
            AID,
            base("new-5").signed("wrong"),
            "sign_error",
        ),
        case(
            "price changed after signing",
            main,
            AID,
            signed("new-6").set("price", "0.02"),
            "sign_error",
        ),
        case(
            "name changed after signing",
            main,
            AID,
            signed("new-6b").set("name", "商品 A & C"),
            "sign_error",
        ),
        case(
            "uppercase signature",
            main,
            AID,
            {
                let req = signed("new-7");
                let upper = req.get("sign").unwrap().to_uppercase();
                req.set("sign", &upper)
            },
            ok,
        ),
        case(
            "sign of 31 characters",
            main,
            AID,
            {
                let req = signed("new-8");
                let short = req.get("sign").unwrap()[1..].to_owned();
                req.set("sign", &short)
            },
            "sign_error",
        ),
        case(
            "integer price, signed as sent",
            main,
            AID,
            base("new-9").set("price", "1").signed(SECRET),
            ok,
        ),
        case(
            "pay_type unknown",
            main,
            AID,
            base("new-10").set("pay_type", "wechat").signed(SECRET),
            "pay_type_error",
        ),
        case(
            "reused id, same parameters, paid",
            main,
            AID,
            signed("paid"),
            "order_payed",
        ),
        case(
            "reused id, expired",
            main,
            AID,
            signed("expired"),
            "order_expire",
        ),
        case(
            "reused id, unpaid, different price",
            main,
            AID,
            base("open").set("price", "0.02").signed(SECRET),
            "order_exist",
        ),
        case(
            "reused id, unpaid, different unsigned more",
            main,
            AID,
            base("open").set("more", "x").signed(SECRET),
            "order_exist",
        ),
        // The validation order: each request has two faults; the earlier check wins.
        case(
            "unknown aid before sign",
            main,
            "999",
            base("new-11").signed("wrong"),
            "aid_not_exist",
        ),
        case(
            "frozen before missing argument",
            &fx.frozen,
            AID,
            signed("new-12").remove("name"),
            "app_off",
        ),
        case(
            "missing argument before pay_type",
            main,
            AID,
            base("new-13")
                .set("pay_type", "bogus")
                .signed(SECRET)
                .remove("notify_url"),
            "missing_argument",
        ),
        case(
            "pay_type before sign",
            main,
            AID,
            base("new-14").set("pay_type", "bogus").signed("wrong"),
            "pay_type_error",
        ),
        case(
            "sign before malformed price",
            main,
            AID,
            base("new-15").set("price", "abc").signed("wrong"),
            "sign_error",
        ),
        case(
            "sign before order-id rules",
            main,
            AID,
            base("paid").signed("wrong"),
            "sign_error",
        ),
        case(
            "order-id rules before fee",
            &fx.poor,
            AID,
            signed("paid"),
            "order_payed",
        ),
    ];
    for key in [
        "name",
        "pay_type",
        "price",
        "order_id",
        "notify_url",
        "sign",
    ] {
        cases.push(Case {
            label: "a required field absent",
            sandbox: main,
            aid: AID,
            req: signed("new-missing").remove(key),
            expect: "missing_argument",
        });
        if key != "sign" {
            cases.push(Case {
                label: "a required field empty",
                sandbox: main,
                aid: AID,
                req: base("new-empty").set(key, "").signed(SECRET),
                expect: "missing_argument",
            });
        }
    }
    for price in [
        "abc", "-1", "0", "0.00", "0.001", "1e3", "+1", " 1.00", "1,00", ".5",
    ] {
        cases.push(Case {
            label: "malformed price (documented: missing_argument)",
            sandbox: main,
            aid: AID,
            req: base("new-price").set("price", price).signed(SECRET),
            expect: "missing_argument",
        });
    }
    cases
}

#[tokio::test]
async fn pay_statuses() {
    let fx = Fixture::new().await;
    let mut cases = common_cases(&fx, Endpoint::Pay, "ok");
    let main = &fx.main;
    let pay = |pay_type: &str, id: &str| Req::new(Endpoint::Pay, pay_type, id);
    let more = vec![
        ("alipay", pay("alipay", "p-alipay").signed(SECRET), "ok"),
        (
            "jsapi with an issued openid",
            pay("jsapi", "p-jsapi-1")
                .set("openid", &fx.openid)
                .signed(SECRET),
            "ok",
        ),
        (
            "jsapi without openid",
            pay("jsapi", "p-jsapi-2").signed(SECRET),
            "missing_argument",
        ),
        (
            "jsapi with an empty openid",
            pay("jsapi", "p-jsapi-3").set("openid", "").signed(SECRET),
            "missing_argument",
        ),
        (
            "jsapi with a foreign openid",
            pay("jsapi", "p-jsapi-4")
                .set("openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
                .signed(SECRET),
            "invalid_openid",
        ),
        (
            "openid missing before sign",
            pay("jsapi", "p-jsapi-5").signed("wrong"),
            "missing_argument",
        ),
        (
            "sign before invalid openid",
            pay("jsapi", "p-jsapi-6")
                .set("openid", "o-foreign")
                .signed("wrong"),
            "sign_error",
        ),
        (
            "mini program: its own openid, appid given",
            pay("jsapi", "p-mini-1")
                .set("openid", "o-from-the-mini-program")
                .set("is_mini", "true")
                .set("appid", "wx0123456789abcdef")
                .signed(SECRET),
            "ok",
        ),
        (
            "mini program without appid",
            pay("jsapi", "p-mini-2")
                .set("openid", "o-from-the-mini-program")
                .set("is_mini", "true")
                .signed(SECRET),
            "missing_argument",
        ),
        (
            "barcode pay_type on pay",
            pay("wechat_barcode", "p-bc").signed(SECRET),
            "pay_type_error",
        ),
        (
            "expire given",
            pay("native", "p-exp-1").set("expire", "60").signed(SECRET),
            "ok",
        ),
        (
            "expire not a number",
            pay("native", "p-exp-2")
                .set("expire", "soon")
                .signed(SECRET),
            "missing_argument",
        ),
        (
            "expire zero",
            pay("native", "p-exp-3").set("expire", "0").signed(SECRET),
            "missing_argument",
        ),
        (
            "expire empty: default",
            pay("native", "p-exp-4").set("expire", "").signed(SECRET),
            "ok",
        ),
    ];
    for (label, req, expect) in more {
        cases.push(Case {
            label,
            sandbox: main,
            aid: AID,
            req,
            expect,
        });
    }
    run(cases).await;
}

#[tokio::test]
async fn cashier_statuses() {
    let fx = Fixture::new().await;
    let mut cases = common_cases(&fx, Endpoint::Cashier, "html");
    cases.push(Case {
        label: "native on the cashier",
        sandbox: &fx.main,
        aid: AID,
        req: Req::new(Endpoint::Cashier, "native", "c-native").signed(SECRET),
        expect: "pay_type_error",
    });
    run(cases).await;
}

#[tokio::test]
async fn barcode_statuses() {
    let fx = Fixture::new().await;
    let mut cases = common_cases(&fx, Endpoint::Barcode, "success");
    let bc = |pay_type: &str, id: &str, code: &str| {
        Req::new(Endpoint::Barcode, pay_type, id)
            .set("barcode", code)
            .signed(SECRET)
    };
    let more = vec![
        (
            "waits for the payer (ends in 0000)",
            bc("wechat_barcode", "b-1", "134657556554410000"),
            "new",
        ),
        (
            "alipay code",
            bc("alipay_barcode", "b-2", "286648834567890123"),
            "success",
        ),
        (
            "17 digits",
            bc("wechat_barcode", "b-3", "13465755655441111"),
            "AUTH_CODE_INVALID",
        ),
        (
            "letters",
            bc("wechat_barcode", "b-4", "13465755655441111x"),
            "AUTH_CODE_INVALID",
        ),
        (
            "wechat prefix 16",
            bc("wechat_barcode", "b-5", "164657556554411111"),
            "AUTH_CODE_INVALID",
        ),
        (
            "alipay code as wechat",
            bc("wechat_barcode", "b-6", "286648834567890123"),
            "AUTH_CODE_INVALID",
        ),
        (
            "wechat code as alipay",
            bc("alipay_barcode", "b-7", "134657556554411111"),
            "AUTH_CODE_INVALID",
        ),
        (
            "no barcode",
            bc("wechat_barcode", "b-8", "x").remove("barcode"),
            "missing_argument",
        ),
        (
            "barcode changed after signing",
            bc("wechat_barcode", "b-9", "134657556554411111").set("barcode", "134657556554411112"),
            "sign_error",
        ),
        (
            "native on barcode",
            bc("native", "b-10", "134657556554411111"),
            "pay_type_error",
        ),
    ];
    for (label, req, expect) in more {
        cases.push(Case {
            label,
            sandbox: &fx.main,
            aid: AID,
            req,
            expect,
        });
    }
    run(cases).await;

    // A refused code creates nothing: the order_id stays free.
    let main = &fx.main;
    assert!(main.order_by_order_id("b-3").is_none());
    let code = bc("wechat_barcode", "b-3", "134657556554411111")
        .send(main)
        .await
        .code();
    assert_eq!(code, "success");
}

#[tokio::test]
async fn barcode_answers_carry_aoid_and_detail() {
    let sandbox = sandbox().await;
    let paid = Req::new(Endpoint::Barcode, "alipay_barcode", "bc-detail")
        .set("barcode", "286648834567890123")
        .signed(SECRET)
        .send(&sandbox)
        .await
        .json();
    assert_eq!(paid["status"], "success");
    let aoid = paid["aoid"].as_str().unwrap();
    // `detail` is a JSON *string* (docs/protocol.md §4.3, §8 item 8).
    let detail: serde_json::Value = serde_json::from_str(paid["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["bank_type"], "ALIPAYACCOUNT");
    assert!(detail["transaction_id"].as_str().unwrap().len() >= 20);
    assert_eq!(query(&sandbox, aoid).await, "payed");

    let waiting = Req::new(Endpoint::Barcode, "wechat_barcode", "bc-wait")
        .set("barcode", "104657556554410000")
        .signed(SECRET)
        .send(&sandbox)
        .await
        .json();
    assert_eq!(waiting["status"], "new");
    let aoid = waiting["aoid"].as_str().unwrap();
    assert_eq!(query(&sandbox, aoid).await, "new");
    sandbox.pay(aoid).await.unwrap();
    assert_eq!(query(&sandbox, aoid).await, "payed");
}

#[tokio::test]
async fn create_answers_in_xorpays_formats() {
    let sandbox = sandbox().await;
    let native = Req::pay("native", "fmt-native").send(&sandbox).await.json();
    assert_eq!(native["status"], "ok");
    assert_eq!(native["expires_in"], 7200);
    let aoid = native["aoid"].as_str().unwrap();
    assert_eq!(aoid.len(), 32);
    assert!(aoid.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    let qr = native["info"]["qr"].as_str().unwrap();
    let code = qr.strip_prefix("weixin://wxpay/bizpayurl?pr=").unwrap();
    assert_eq!(code.len(), 7);
    assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));

    let alipay = Req::new(Endpoint::Pay, "alipay", "fmt-alipay")
        .set("expire", "300")
        .signed(SECRET)
        .send(&sandbox)
        .await
        .json();
    assert_eq!(alipay["expires_in"], 300);
    let qr = alipay["info"]["qr"].as_str().unwrap();
    let code = qr.strip_prefix("https://qr.alipay.com/bax").unwrap();
    assert!(!code.is_empty() && code.bytes().all(|b| b.is_ascii_alphanumeric()));

    let openid = sandbox.issue_openid();
    let jsapi = Req::new(Endpoint::Pay, "jsapi", "fmt-jsapi")
        .set("openid", &openid)
        .signed(SECRET)
        .send(&sandbox)
        .await
        .json();
    let info = jsapi["info"].as_object().unwrap();
    let mut keys: Vec<_> = info.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "appId",
            "nonceStr",
            "package",
            "paySign",
            "signType",
            "timeStamp"
        ]
    );
    assert!(info["appId"].as_str().unwrap().starts_with("wx"));
    assert_eq!(info["appId"].as_str().unwrap().len(), 18);
    assert!(info["timeStamp"].is_string());
    assert!(info["timeStamp"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(info["nonceStr"].as_str().unwrap().len(), 32);
    assert!(info["package"].as_str().unwrap().starts_with("prepay_id="));
    assert_eq!(info["signType"], "MD5");
    // WeChat's paySign, recomputed here from WeChat's rule with the merchant key.
    let pay_sign = md5(&[&format!(
        "appId={}&nonceStr={}&package={}&signType=MD5&timeStamp={}&key={SECRET}",
        info["appId"].as_str().unwrap(),
        info["nonceStr"].as_str().unwrap(),
        info["package"].as_str().unwrap(),
        info["timeStamp"].as_str().unwrap(),
    )])
    .to_uppercase();
    assert_eq!(info["paySign"], pay_sign.as_str());
    // That the core's reader understands these answers is the service's tests' job: they
    // check out every kind of order against this sandbox.
}

#[tokio::test]
async fn parameters_come_from_query_string_and_body_and_the_body_wins() {
    let sandbox = sandbox().await;
    let req = Req::pay("native", "qs-1");
    // Everything in the query string, empty body: the official Node demo's way (§1.2).
    let url = format!("{}?{}", req.url(&sandbox, AID), req.body());
    let answer = common::Answer::read(client().post(&url).send().await.unwrap()).await;
    assert_eq!(answer.code(), "ok");

    // A wrong price in the query string is overridden by the body's.
    let split = Req::pay("native", "qs-2");
    let url = format!("{}?price=9.99&name=x", split.url(&sandbox, AID));
    let answer = common::Answer::read(
        client()
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(split.body())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.code(), "ok");
    assert_eq!(sandbox.order_by_order_id("qs-2").unwrap().price, "0.01");

    // A JSON body is not a form: its fields count as missing.
    let answer = common::Answer::read(
        client()
            .post(split.url(&sandbox, AID))
            .header("content-type", "application/json")
            .body(serde_json::json!({ "name": "x" }).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(answer.code(), "missing_argument");

    // Wrong method: XorPay's pay endpoint is POST only.
    let answer = get(&req.url(&sandbox, AID)).await;
    assert_eq!(answer.status, 405);
}

#[tokio::test]
async fn order_id_rules() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox().await;
    let req = Req::new(Endpoint::Pay, "native", "rule-1")
        .set("notify_url", &receiver.url)
        .set("more", "note")
        .signed(SECRET);
    let first = req.send(&sandbox).await.json();
    // The same order_id with the same parameters: the same order, the same answer.
    let again = req.send(&sandbox).await.json();
    assert_eq!(first, again);
    assert_eq!(sandbox.orders().len(), 1);
    // Anything different, signed or not: order_exist.
    for different in [
        req.clone().set("price", "0.02").signed(SECRET),
        req.clone().set("pay_type", "alipay").signed(SECRET),
        req.clone().set("more", "other"),
        req.clone().set("expire", "60"),
        req.clone().set("order_uid", "a@b.com"),
    ] {
        assert_eq!(different.send(&sandbox).await.code(), "order_exist");
    }
    // The same id on another endpoint is another order.
    let cashier = Req::new(Endpoint::Cashier, "jsapi", "rule-1")
        .set("notify_url", &receiver.url)
        .signed(SECRET);
    assert_eq!(cashier.send(&sandbox).await.code(), "order_exist");

    // Paid: order_payed, both while `payed` and once `success`.
    let aoid = first["aoid"].as_str().unwrap();
    sandbox.pay(aoid).await.unwrap();
    assert_eq!(req.send(&sandbox).await.code(), "order_payed");
    let order = sandbox
        .wait_for(aoid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(order.state, OrderState::Success);
    assert_eq!(req.send(&sandbox).await.code(), "order_payed");

    // Expired: order_expire, and the payer cannot pay it any more.
    let short = Req::new(Endpoint::Pay, "native", "rule-2")
        .set("expire", "30")
        .signed(SECRET);
    let aoid = short.send(&sandbox).await.json()["aoid"]
        .as_str()
        .unwrap()
        .to_owned();
    sandbox.advance_clock(Duration::from_secs(29));
    assert_eq!(short.send(&sandbox).await.code(), "ok");
    sandbox.advance_clock(Duration::from_secs(1));
    assert_eq!(short.send(&sandbox).await.code(), "order_expire");
    assert_eq!(
        sandbox.pay(&aoid).await,
        Err(xorpay_sandbox::PayError::NotPayable(OrderState::Expire))
    );
}

#[tokio::test]
async fn lifecycle_through_query_and_query2() {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    let receiver = Receiver::start_gated(
        std::sync::Arc::new(|_, _| (200, Duration::ZERO)),
        Some(gate.clone()),
    )
    .await;
    let sandbox = sandbox().await;
    let req = Req::new(Endpoint::Pay, "native", "life-1")
        .set("notify_url", &receiver.url)
        .signed(SECRET);
    let aoid = create(&sandbox, &req).await;
    assert_eq!(query(&sandbox, &aoid).await, "new");
    assert_eq!(query2(&sandbox, "life-1").await, "new");

    // The payer pays (the sandbox route); the notification waits at the receiver's gate.
    let paid = post_form(
        &format!("{}/_sandbox/orders/{aoid}/pay", sandbox.base_url()),
        &[],
    )
    .await;
    assert_eq!(paid.status, 200);
    assert_eq!(paid.json()["state"], "payed");
    assert_eq!(query(&sandbox, &aoid).await, "payed");
    assert_eq!(query2(&sandbox, "life-1").await, "payed");
    // Paying twice is refused.
    let again = post_form(
        &format!("{}/_sandbox/orders/{aoid}/pay", sandbox.base_url()),
        &[],
    )
    .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["state"], "payed");

    // Acknowledged: success.
    gate.add_permits(1);
    sandbox
        .wait_for(&aoid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await;
    assert_eq!(query(&sandbox, &aoid).await, "success");
    assert_eq!(query2(&sandbox, "life-1").await, "success");

    // Expiry, on the sandbox clock.
    let req = Req::new(Endpoint::Pay, "alipay", "life-2")
        .set("expire", "120")
        .signed(SECRET);
    let aoid = create(&sandbox, &req).await;
    sandbox.advance_clock(Duration::from_secs(121));
    assert_eq!(query(&sandbox, &aoid).await, "expire");
    assert_eq!(query2(&sandbox, "life-2").await, "expire");
    let pay = post_form(
        &format!("{}/_sandbox/orders/{aoid}/pay", sandbox.base_url()),
        &[],
    )
    .await;
    assert_eq!(pay.status, 409);
    assert_eq!(pay.json()["error"], "not_payable");

    let unknown = post_form(
        &format!(
            "{}/_sandbox/orders/{}/pay",
            sandbox.base_url(),
            "0".repeat(32)
        ),
        &[],
    )
    .await;
    assert_eq!(unknown.status, 404);
}

/// `expire` has no documented maximum (§6.3): lifetimes past the calendar's end, or past
/// anything the clock can hold, are accepted and echoed, and nothing that shows, pays or
/// notifies such an order fails. The clock can be moved any distance, up to a century.
#[tokio::test]
async fn lifetimes_and_clock_moves_beyond_the_calendar() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox().await;
    let base = sandbox.base_url().to_owned();

    // 10^12 seconds: about 31,700 years, past the year 9999.
    let long = Req::new(Endpoint::Pay, "native", "far-1")
        .set("expire", "1000000000000")
        .set("notify_url", &receiver.url)
        .signed(SECRET);
    let answer = long.send(&sandbox).await;
    assert_eq!(answer.code(), "ok");
    assert_eq!(answer.json()["expires_in"], 1_000_000_000_000_u64);
    let long_aoid = answer.json()["aoid"].as_str().unwrap().to_owned();
    let cashier = Req::new(Endpoint::Cashier, "jsapi", "far-2")
        .set("expire", "1000000000000")
        .signed(SECRET);
    assert_eq!(cashier.send(&sandbox).await.code(), "html");
    let listed = get(&format!("{base}/_sandbox/orders")).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json().as_array().map(Vec::len), Some(2));
    let view = sandbox.order(&long_aoid).unwrap();
    assert_eq!(view.expires_at.as_deref(), Some("9999-12-31 23:59:59"));

    // Paid and notified like any other order.
    let paid = post_form(&format!("{base}/_sandbox/orders/{long_aoid}/pay"), &[]).await;
    assert_eq!(paid.status, 200);
    let done = sandbox
        .wait_for(&long_aoid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(done.state, OrderState::Success);
    assert_eq!(receiver.hits().len(), 1);

    // u64::MAX seconds is past anything the clock can hold: the order never expires.
    let endless = Req::new(Endpoint::Pay, "native", "far-3")
        .set("expire", &u64::MAX.to_string())
        .signed(SECRET);
    let endless_aoid = create(&sandbox, &endless).await;
    assert_eq!(sandbox.order(&endless_aoid).unwrap().expires_at, None);

    // The clock moves a century at most, however far it is asked to.
    let advanced = client()
        .post(format!("{base}/_sandbox/clock/advance"))
        .json(&serde_json::json!({ "seconds": u64::MAX }))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    let century = 100 * 366 * 24 * 60 * 60;
    let advanced: serde_json::Value = advanced.json().await.unwrap();
    assert_eq!(advanced["offset_seconds"], century);
    assert_eq!(
        sandbox.advance_clock(Duration::MAX),
        Duration::from_secs(century)
    );
    assert_eq!(query(&sandbox, &endless_aoid).await, "new");
    assert_eq!(query(&sandbox, &long_aoid).await, "success");
    let paid = post_form(&format!("{base}/_sandbox/orders/{endless_aoid}/pay"), &[]).await;
    assert_eq!(paid.status, 200);
    assert_eq!(paid.json()["state"], "payed");
    assert_eq!(get(&format!("{base}/_sandbox/orders")).await.status, 200);
}

#[tokio::test]
async fn query_statuses() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url().to_owned();
    assert_eq!(query(&sandbox, &"f".repeat(32)).await, "not_exist");
    assert_eq!(query(&sandbox, "not-even-hex").await, "not_exist");
    assert_eq!(query2(&sandbox, "never-created").await, "not_exist");
    let aoid = create(&sandbox, &Req::pay("native", "q-1")).await;
    assert_eq!(query(&sandbox, &aoid).await, "new");

    let url = |aid: &str, pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        format!("{base}/api/query2/{aid}?{}", common::form(&pairs))
    };
    let sign = md5(&["q-1", SECRET]);
    let cases = [
        (url(AID, &[("order_id", "q-1"), ("sign", &sign)]), "new"),
        (
            url(AID, &[("order_id", "q-1"), ("sign", &sign.to_uppercase())]),
            "new",
        ),
        (
            url("999", &[("order_id", "q-1"), ("sign", &sign)]),
            "aid_not_exist",
        ),
        (url(AID, &[("sign", &sign)]), "missing_argument"),
        (url(AID, &[("order_id", "q-1")]), "missing_argument"),
        (
            url(AID, &[("order_id", "q-1"), ("sign", "")]),
            "missing_argument",
        ),
        (
            url(
                AID,
                &[("order_id", "q-1"), ("sign", &md5(&["q-1", "wrong"]))],
            ),
            "sign_error",
        ),
        (
            url(AID, &[("order_id", "q-2"), ("sign", &sign)]),
            "sign_error",
        ),
        (
            url(
                AID,
                &[("order_id", "q-2"), ("sign", &md5(&["q-2", SECRET]))],
            ),
            "not_exist",
        ),
    ];
    for (url, expect) in cases {
        assert_eq!(get(&url).await.code(), expect, "{url}");
    }
}

#[tokio::test]
async fn fee_error_at_creation_and_at_payment() {
    // 1 fen covers exactly one fee of 1 fen (1% of 0.01, rounded up to the 1-fen minimum).
    let sandbox = sandbox_with!(balance_fen(Some(1)));
    let a = create(&sandbox, &Req::pay("native", "fee-a")).await;
    let b = create(&sandbox, &Req::pay("native", "fee-b")).await;
    let paid = sandbox.pay(&a).await.unwrap();
    assert_eq!(paid.state, OrderState::Payed);
    assert_eq!(paid.payment.unwrap().fee_fen, 1);
    assert_eq!(sandbox.balance_fen(), Some(0));
    // The balance ran out: paying the second order leaves it fee_error, not notified.
    let starved = sandbox.pay(&b).await.unwrap();
    assert_eq!(starved.state, OrderState::FeeError);
    assert_eq!(starved.delivery, DeliveryState::HeldBack);
    assert_eq!(query(&sandbox, &b).await, "fee_error");
    assert_eq!(query2(&sandbox, "fee-b").await, "fee_error");
    // And a new order cannot be created.
    assert_eq!(
        Req::pay("native", "fee-c").send(&sandbox).await.code(),
        "fee_error"
    );
    // Topping up helps (via the sandbox route, as the binary's users would).
    let topped = client()
        .put(format!("{}/_sandbox/merchant", sandbox.base_url()))
        .json(&serde_json::json!({ "balance_fen": 100 }))
        .send()
        .await
        .unwrap();
    let merchant: serde_json::Value = topped.json().await.unwrap();
    assert_eq!(merchant["balance_fen"], 100);
    assert!(!merchant.to_string().contains(SECRET));
    assert_eq!(
        Req::pay("native", "fee-c").send(&sandbox).await.code(),
        "ok"
    );
    // The same route freezes the account, and refuses what it cannot read.
    let put = |body: serde_json::Value| {
        client()
            .put(format!("{}/_sandbox/merchant", sandbox.base_url()))
            .json(&body)
            .send()
    };
    assert_eq!(
        put(serde_json::json!({ "app_off": true }))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        Req::pay("native", "fee-d").send(&sandbox).await.code(),
        "app_off"
    );
    for bad in [
        serde_json::json!({ "balance_fen": "lots" }),
        serde_json::json!({ "balance_fen": -1 }),
        serde_json::json!({ "app_off": "yes" }),
        serde_json::json!([1]),
    ] {
        assert_eq!(put(bad).await.unwrap().status(), 400);
    }
    let reset = serde_json::json!({ "app_off": false, "balance_fen": null });
    assert_eq!(put(reset).await.unwrap().status(), 200);
    assert_eq!(sandbox.balance_fen(), None);
    assert_eq!(
        Req::pay("native", "fee-d").send(&sandbox).await.code(),
        "ok"
    );

    // The fee rule: 1% rounded up, at least 1 fen. 123.45 → 1.2345 → 124 fen.
    let sandbox = sandbox_with!(balance_fen(Some(124)));
    let big = Req::new(Endpoint::Pay, "native", "fee-big")
        .set("price", "123.45")
        .signed(SECRET);
    let aoid = create(&sandbox, &big).await;
    let paid = sandbox.pay(&aoid).await.unwrap();
    assert_eq!(paid.payment.unwrap().fee_fen, 124);
    assert_eq!(sandbox.balance_fen(), Some(0));
    // A zero rate takes nothing.
    let free = sandbox_with!(fee_rate_bp(0), balance_fen(Some(0)));
    assert_eq!(
        Req::pay("native", "fee-free").send(&free).await.code(),
        "ok"
    );
}

/// An order of `price`, paid and acknowledged.
async fn success_order(
    sandbox: &Sandbox,
    receiver: &Receiver,
    order_id: &str,
    price: &str,
) -> String {
    let req = Req::new(Endpoint::Pay, "native", order_id)
        .set("price", price)
        .set("notify_url", &receiver.url)
        .signed(&sandbox.secret());
    let aoid = create(sandbox, &req).await;
    sandbox.pay(&aoid).await.unwrap();
    let order = sandbox
        .wait_for(&aoid, Duration::from_secs(10), |o| {
            o.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(order.state, OrderState::Success);
    aoid
}

#[tokio::test]
async fn refund_statuses_and_limits() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox().await;
    let base = sandbox.base_url().to_owned();

    // Not refundable before success: new, payed (notification unacknowledged), expired.
    let new = create(&sandbox, &Req::pay("native", "r-new")).await;
    assert_eq!(refund(&sandbox, &new, "0.01").await, "order_error");
    let unacknowledged = create(&sandbox, &Req::pay("native", "r-payed")).await; // NOWHERE
    sandbox.pay(&unacknowledged).await.unwrap();
    assert_eq!(
        refund(&sandbox, &unacknowledged, "0.01").await,
        "order_error"
    );
    assert_eq!(
        refund(&sandbox, &"a".repeat(32), "0.01").await,
        "order_error"
    );

    let aoid = success_order(&sandbox, &receiver, "r-1", "1.00").await;
    let url = format!("{base}/api/refund/{aoid}");
    let signed = |price: &str| md5(&[price, SECRET]);
    let both = |price: &str, sign: String| vec![("price", price.to_owned()), ("sign", sign)];
    let cases = [
        (vec![("price", "0.10".to_owned())], "missing_argument"),
        (vec![("sign", signed("0.10"))], "missing_argument"),
        (both("0.10", md5(&["0.10", "wrong"])), "sign_error"),
        (both("0.10", signed("0.20")), "sign_error"),
        (both("abc", signed("abc")), "price_error"),
        (both("0", signed("0")), "price_error"),
        (both("1.01", signed("1.01")), "price_error"),
        (both("0.60", signed("0.60")), "ok"),
        // Cumulative: 0.60 + 0.50 > 1.00.
        (both("0.50", signed("0.50")), "price_error"),
        (both("0.10", signed("0.10").to_uppercase()), "ok"),
        (both("0.3", signed("0.3")), "ok"),
        (both("0.01", signed("0.01")), "price_error"),
    ];
    for (fields, expect) in cases {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(post_form(&url, &fields).await.code(), expect, "{fields:?}");
    }
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.refunded_fen, 100);
    assert_eq!(
        order
            .refunds
            .iter()
            .map(|r| r.price.as_str())
            .collect::<Vec<_>>(),
        ["0.60", "0.10", "0.3"]
    );
    // A refund leaves the state alone.
    assert_eq!(query(&sandbox, &aoid).await, "success");

    // At most 50 partial refunds; the 51st is refused with order_error even though money
    // is left.
    let aoid = success_order(&sandbox, &receiver, "r-2", "1.00").await;
    for n in 1..=50 {
        assert_eq!(refund(&sandbox, &aoid, "0.01").await, "ok", "refund {n}");
    }
    assert_eq!(refund(&sandbox, &aoid, "0.01").await, "order_error");
    let order = sandbox.order(&aoid).unwrap();
    assert_eq!(order.refunds.len(), 50);
    assert_eq!(order.refunded_fen, 50);

    // The JSON view lists refunds too.
    let view = get(&format!("{base}/_sandbox/orders/{aoid}")).await.json();
    assert_eq!(view["refunds"].as_array().unwrap().len(), 50);
    assert_eq!(view["refunded_fen"], 50);
}

#[tokio::test]
async fn strict_mode_refunds_refuse_uppercase() {
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!(strict_lowercase_sign(true));
    let aoid = success_order(&sandbox, &receiver, "strict-r", "1.00").await;
    let url = format!("{}/api/refund/{aoid}", sandbox.base_url());
    let sign = md5(&["0.10", SECRET]);
    let upper = sign.to_uppercase();
    assert_eq!(
        post_form(&url, &[("price", "0.10"), ("sign", &upper)])
            .await
            .code(),
        "sign_error"
    );
    assert_eq!(
        post_form(&url, &[("price", "0.10"), ("sign", &sign)])
            .await
            .code(),
        "ok"
    );
}

#[tokio::test]
async fn openid_redirect_appends_blindly() {
    let sandbox = sandbox().await;
    let openid_url = |aid: &str, callback: Option<&str>| {
        let mut url = format!("{}/api/openid/{aid}", sandbox.base_url());
        if let Some(callback) = callback {
            url.push('?');
            url.push_str(&common::form(&[("callback".into(), callback.into())]));
        }
        url
    };
    let mut openids = Vec::new();
    for (callback, prefix) in [
        (
            "http://shop.test/pay?a=1",
            "http://shop.test/pay?a=1&openid=",
        ),
        // No `?`: XorPay still appends `&openid=` (docs/protocol.md §4.1, §8 item 9).
        ("http://abc.com/pay", "http://abc.com/pay&openid="),
    ] {
        let response = client()
            .get(openid_url(AID, Some(callback)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302);
        let target = response.headers()["location"].to_str().unwrap().to_owned();
        let openid = target
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{target}"));
        assert_eq!(openid.len(), 28);
        assert!(
            openid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        openids.push(openid.to_owned());
    }
    assert_ne!(openids[0], openids[1]);

    // The openid it issued is accepted by a JSAPI order.
    let jsapi = Req::new(Endpoint::Pay, "jsapi", "openid-1")
        .set("openid", &openids[0])
        .signed(SECRET);
    assert_eq!(jsapi.send(&sandbox).await.code(), "ok");

    // Errors are JSON, like every other route.
    assert_eq!(
        get(&openid_url("999", Some("http://a/?b=1"))).await.code(),
        "aid_not_exist"
    );
    assert_eq!(get(&openid_url(AID, None)).await.code(), "missing_argument");
    let frozen = sandbox_with!(app_off(true));
    let url = format!(
        "{}/api/openid/{AID}?callback=http%3A%2F%2Fa%2F%3Fb%3D1",
        frozen.base_url()
    );
    assert_eq!(get(&url).await.code(), "app_off");
}

/// Decodes a PNG into greyscale pixels.
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(frame.color_type, png::ColorType::Grayscale);
    pixels.truncate(frame.buffer_size());
    (frame.width as usize, frame.height as usize, pixels)
}

#[tokio::test]
async fn qr_renders_a_png_that_decodes_to_data() {
    let sandbox = sandbox().await;
    for data in [
        "weixin://wxpay/bizpayurl?pr=KGdA4v4",
        "https://qr.alipay.com/baxbe6067atdzqfdxjcq20ff",
        "http://127.0.0.1:8899/api/cashier/1000?name=%E9%97%A8&x=1",
    ] {
        let url = format!(
            "{}/qr?{}",
            sandbox.base_url(),
            common::form(&[("data".into(), data.into())])
        );
        let response = client().get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/png");
        let bytes = response.bytes().await.unwrap();
        let (width, height, pixels) = decode_png(&bytes);
        assert_eq!(width, height);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            pixels[y * width + x]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the image");
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, data);
    }
    let missing = get(&format!("{}/qr", sandbox.base_url())).await;
    assert_eq!(missing.code(), "missing_argument");
    let empty = get(&format!("{}/qr?data=", sandbox.base_url())).await;
    assert_eq!(empty.code(), "missing_argument");
    let too_long = get(&format!(
        "{}/qr?data={}",
        sandbox.base_url(),
        "x".repeat(5000)
    ))
    .await;
    assert_eq!(too_long.status, 400);
}

#[tokio::test]
async fn sandbox_views_and_unknown_orders() {
    let sandbox = sandbox().await;
    let base = sandbox.base_url().to_owned();
    let a = create(&sandbox, &Req::pay("native", "view-1")).await;
    let b = create(&sandbox, &Req::pay("alipay", "view-2")).await;
    let list = get(&format!("{base}/_sandbox/orders")).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["aoid"], a.as_str());
    assert_eq!(list[1]["aoid"], b.as_str());
    assert_eq!(list[0]["state"], "new");
    assert_eq!(list[0]["price"], "0.01");
    assert_eq!(list[0]["notify_url"], NOWHERE);
    assert!(list[0]["deliveries"].as_array().unwrap().is_empty());
    assert_eq!(
        get(&format!("{base}/_sandbox/orders/{a}")).await.json()["order_id"],
        "view-1"
    );
    assert_eq!(
        get(&format!("{base}/_sandbox/orders/nope")).await.status,
        404
    );
    assert!(sandbox.order("nope").is_none());
    assert!(sandbox.deliveries("nope").is_empty());
    assert!(
        sandbox
            .set_order_fault("nope", xorpay_sandbox::OrderFault::Duplicate)
            .is_err()
    );

    // Clock route, for the binary's users.
    let advanced = client()
        .post(format!("{base}/_sandbox/clock/advance"))
        .json(&serde_json::json!({ "seconds": 7200 }))
        .send()
        .await
        .unwrap();
    assert_eq!(advanced.status(), 200);
    let advanced: serde_json::Value = advanced.json().await.unwrap();
    assert_eq!(advanced["offset_seconds"], 7200);
    assert_eq!(query(&sandbox, &a).await, "expire");
}

/// One sandbox, two merchants: each aid checks its own secret, the order numbers are each
/// merchant's own, notifications are signed and refunds checked with the order's merchant's
/// secret, query2 answers per aid, and each has its own account.
#[tokio::test]
async fn several_merchants_on_one_sandbox() {
    const OTHER_AID: &str = "2000";
    const OTHER_SECRET: &str = "ffeeddccbbaa99887766554433221100";
    let receiver = Receiver::ok().await;
    let sandbox = sandbox_with!(more_merchants(&[(OTHER_AID, OTHER_SECRET)]));
    let order = |secret: &str| {
        Req::pay("native", "shared-1")
            .set("notify_url", &receiver.url)
            .signed(secret)
    };

    // Each aid takes only its own secret; an aid not hosted does not exist.
    assert_eq!(
        order(SECRET).send_to(&sandbox, OTHER_AID).await.code(),
        "sign_error"
    );
    assert_eq!(
        order(OTHER_SECRET).send_to(&sandbox, AID).await.code(),
        "sign_error"
    );
    assert_eq!(
        order(SECRET).send_to(&sandbox, "3000").await.code(),
        "aid_not_exist"
    );

    // The same order number at both: two orders.
    let first = order(SECRET).send_to(&sandbox, AID).await.json();
    let other = order(OTHER_SECRET)
        .send_to(&sandbox, OTHER_AID)
        .await
        .json();
    let (first, other) = (
        first["aoid"].as_str().unwrap(),
        other["aoid"].as_str().unwrap(),
    );
    assert_ne!(first, other);
    assert_eq!(
        sandbox.merchant_order(OTHER_AID, "shared-1").unwrap().aoid,
        other
    );
    assert_eq!(sandbox.order_by_order_id("shared-1").unwrap().aoid, first);

    // The other merchant's notification carries a signature made with its own secret.
    sandbox.pay(other).await.unwrap();
    let paid = eventually(
        "the other merchant's notification",
        Duration::from_secs(5),
        || sandbox.deliveries(other).into_iter().next(),
    )
    .await;
    let fields = &paid.fields;
    assert_eq!(
        fields["sign"],
        md5(&[
            other,
            "shared-1",
            &fields["pay_price"],
            &fields["pay_time"],
            OTHER_SECRET
        ])
    );
    let acknowledged = sandbox
        .wait_for(other, Duration::from_secs(5), |order| {
            order.state == OrderState::Success
        })
        .await
        .unwrap();
    assert_eq!(acknowledged.aid, OTHER_AID);

    // query2 per aid, signed with that aid's secret.
    let query2_of = |aid: &str, secret: &str| {
        format!(
            "{}/api/query2/{aid}?order_id=shared-1&sign={}",
            sandbox.base_url(),
            md5(&["shared-1", secret])
        )
    };
    assert_eq!(
        get(&query2_of(OTHER_AID, OTHER_SECRET)).await.code(),
        "success"
    );
    assert_eq!(get(&query2_of(AID, SECRET)).await.code(), "new");
    assert_eq!(
        get(&query2_of(OTHER_AID, SECRET)).await.code(),
        "sign_error"
    );

    // A refund of the other merchant's order needs the other merchant's secret.
    let refund_with = |secret: &str| {
        let sign = md5(&["0.01", secret]);
        let url = format!("{}/api/refund/{other}", sandbox.base_url());
        async move {
            post_form(&url, &[("price", "0.01"), ("sign", &sign)])
                .await
                .code()
        }
    };
    assert_eq!(refund_with(SECRET).await, "sign_error");
    assert_eq!(refund_with(OTHER_SECRET).await, "ok");

    // Accounts are apart: freezing the other merchant leaves the first one open.
    let frozen = client()
        .put(format!(
            "{}/_sandbox/merchant?aid={OTHER_AID}",
            sandbox.base_url()
        ))
        .json(&serde_json::json!({ "app_off": true }))
        .send()
        .await
        .unwrap();
    assert!(frozen.status().is_success());
    let again = Req::pay("native", "shared-2").signed(OTHER_SECRET);
    assert_eq!(again.send_to(&sandbox, OTHER_AID).await.code(), "app_off");
    let open = Req::pay("native", "shared-2").signed(SECRET);
    assert_eq!(open.send_to(&sandbox, AID).await.code(), "ok");
    let unknown = get(&format!(
        "{}/_sandbox/merchant?aid=3000",
        sandbox.base_url()
    ))
    .await;
    assert_eq!(unknown.status, 404);
}
