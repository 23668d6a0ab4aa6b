//! Helpers shared by the sandbox's integration tests. Each test binary uses a different
//! subset, hence the `dead_code` and `unused_macros` allowances (and `pub` is how a test
//! module shares).
//!
//! Everything here talks to the sandbox as a merchant would: plain HTTP through `reqwest`,
//! forms built by hand, and signatures computed with the test's own MD5 concatenation (the
//! method of the shared vectors), never with the sandbox's or the core's signer.
#![allow(dead_code, unused_macros, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use xorpay_sandbox::Sandbox;

pub const AID: &str = "1000";
pub const SECRET: &str = "0123456789abcdef0123456789abcdef";
/// Nothing listens on the discard port: notifications there fail at once.
pub const NOWHERE: &str = "http://127.0.0.1:9/notify";

/// The retry unit of the tests' sandboxes: XorPay's minutes in milliseconds.
pub const RETRY_UNIT: Duration = Duration::from_millis(10);

/// How long the tests' sandboxes wait for a notification's answer.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// A sandbox builder with the test credentials. A macro, not a function: the builder's type
/// changes with every setting, and each test adds its own (the retry unit and notification
/// timeout among them: a setting can be made only once).
macro_rules! builder {
    () => {
        ::xorpay_sandbox::Sandbox::builder()
            .aid($crate::common::AID)
            .secret($crate::common::SECRET)
    };
}

/// Starts a sandbox with the test credentials, the tests' retry unit and notification
/// timeout, and these settings: `sandbox_with!(balance_fen(Some(0)), app_off(true))`.
macro_rules! sandbox_with {
    ($($setting:ident($value:expr)),* $(,)?) => {
        builder!()
            $(.$setting($value))*
            .retry_unit($crate::common::RETRY_UNIT)
            .notify_timeout($crate::common::NOTIFY_TIMEOUT)
            .build()
            .start()
            .await
            .unwrap()
    };
}

pub async fn sandbox() -> Sandbox {
    builder!()
        .retry_unit(RETRY_UNIT)
        .build()
        .start()
        .await
        .unwrap()
}

/// Lowercase hex MD5 of the concatenation: the vectors' method.
pub fn md5(parts: &[&str]) -> String {
    xorpay_testkit::md5_hex(parts)
}

/// A client that does not follow redirects (the openid route's 302 is the answer).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Which create-order endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Pay,
    Cashier,
    Barcode,
}

impl Endpoint {
    pub fn path(self) -> &'static str {
        match self {
            Endpoint::Pay => "pay",
            Endpoint::Cashier => "cashier",
            Endpoint::Barcode => "barcode_pay",
        }
    }
}

/// A create-order request, built field by field and signed by the test.
#[derive(Debug, Clone)]
pub struct Req {
    pub endpoint: Endpoint,
    pub fields: Vec<(String, String)>,
}

impl Req {
    /// An unsigned request with the usual fields.
    pub fn new(endpoint: Endpoint, pay_type: &str, order_id: &str) -> Req {
        let mut req = Req {
            endpoint,
            fields: Vec::new(),
        };
        req = req
            .set("name", "商品 A & B")
            .set("pay_type", pay_type)
            .set("price", "0.01")
            .set("order_id", order_id)
            .set("notify_url", NOWHERE);
        if endpoint == Endpoint::Barcode {
            req = req.set("barcode", "134657556554411111");
        }
        req
    }

    /// A signed `/api/pay` request.
    pub fn pay(pay_type: &str, order_id: &str) -> Req {
        Req::new(Endpoint::Pay, pay_type, order_id).signed(SECRET)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn set(mut self, key: &str, value: &str) -> Req {
        match self.fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = value.to_owned(),
            None => self.fields.push((key.to_owned(), value.to_owned())),
        }
        self
    }

    pub fn remove(mut self, key: &str) -> Req {
        self.fields.retain(|(k, _)| k != key);
        self
    }

    /// Signs with the endpoint's formula (docs/protocol.md §1.3) over the current values.
    pub fn signed(self, secret: &str) -> Req {
        let mut parts: Vec<&str> = ["name", "pay_type", "price", "order_id", "notify_url"]
            .iter()
            .map(|key| self.get(key).unwrap_or(""))
            .collect();
        if self.endpoint == Endpoint::Barcode {
            parts.push(self.get("barcode").unwrap_or(""));
        }
        parts.push(secret);
        let sign = md5(&parts);
        self.set("sign", &sign)
    }

    pub fn body(&self) -> String {
        form(&self.fields)
    }

    pub fn url(&self, sandbox: &Sandbox, aid: &str) -> String {
        format!("{}/api/{}/{aid}", sandbox.base_url(), self.endpoint.path())
    }

    /// POSTs the form; returns the HTTP status, the content type and the body.
    pub async fn send_to(&self, sandbox: &Sandbox, aid: &str) -> Answer {
        let response = client()
            .post(self.url(sandbox, aid))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(self.body())
            .send()
            .await
            .unwrap();
        Answer::read(response).await
    }

    pub async fn send(&self, sandbox: &Sandbox) -> Answer {
        self.send_to(sandbox, sandbox.aid()).await
    }
}

pub fn form(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// An HTTP answer, read completely.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.text().await.unwrap();
        Answer {
            status,
            content_type,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not json ({e}): {} {}", self.status, self.body))
    }

    /// The business status, or `html` for an HTML page answered with HTTP 200.
    pub fn code(&self) -> String {
        if self.status == 200 && self.content_type.starts_with("text/html") {
            return "html".to_owned();
        }
        assert_eq!(self.status, 200, "business answers are HTTP 200: {self:?}");
        assert!(
            self.content_type.starts_with("application/json"),
            "{self:?}"
        );
        self.json()["status"].as_str().unwrap().to_owned()
    }
}

pub async fn get(url: &str) -> Answer {
    Answer::read(client().get(url).send().await.unwrap()).await
}

pub async fn post_form(url: &str, fields: &[(&str, &str)]) -> Answer {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let response = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&fields))
        .send()
        .await
        .unwrap();
    Answer::read(response).await
}

/// `GET /api/query/{aoid}`'s status.
pub async fn query(sandbox: &Sandbox, aoid: &str) -> String {
    get(&format!("{}/api/query/{aoid}", sandbox.base_url()))
        .await
        .code()
}

/// `GET /api/query2/{aid}`'s status, correctly signed.
pub async fn query2(sandbox: &Sandbox, order_id: &str) -> String {
    let url = format!(
        "{}/api/query2/{}?{}",
        sandbox.base_url(),
        sandbox.aid(),
        form(&[
            ("order_id".into(), order_id.into()),
            ("sign".into(), md5(&[order_id, &sandbox.secret()])),
        ])
    );
    get(&url).await.code()
}

/// `POST /api/refund/{aoid}`'s status, correctly signed.
pub async fn refund(sandbox: &Sandbox, aoid: &str, price: &str) -> String {
    let sign = md5(&[price, &sandbox.secret()]);
    post_form(
        &format!("{}/api/refund/{aoid}", sandbox.base_url()),
        &[("price", price), ("sign", &sign)],
    )
    .await
    .code()
}

/// Creates an order through `/api/pay` and returns its aoid.
pub async fn create(sandbox: &Sandbox, req: &Req) -> String {
    let answer = req.send(sandbox).await;
    let json = answer.json();
    assert_eq!(json["status"], "ok", "{json}");
    json["aoid"].as_str().unwrap().to_owned()
}

/// Polls `check` every 5 ms until it returns `Some`, or panics after `timeout`.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[allow(unused_imports)] // each test binary uses its part
pub use xorpay_testkit::{Hit, Plan, Receiver};

/// A receiver that answers like a correct shop: 200 only for a notification that
/// `xorpay_core` verifies with `secret`, 400 otherwise.
pub async fn verifying_receiver(secret: &str) -> Receiver {
    let secret = xorpay_core::AppSecret::new(secret).unwrap();
    Receiver::start(Arc::new(move |_, body| {
        let verified = xorpay_core::Notification::parse(body)
            .and_then(|n| n.verify(&secret))
            .is_ok();
        (if verified { 200 } else { 400 }, Duration::ZERO)
    }))
    .await
}
