//! What a merchant relies on beyond the signature vectors: where `notify_url` comes from,
//! optional and unsigned fields, non-string field types, empty values, the mini program's
//! extra parameters, and the `sign_error` debugging aid.

use std::fmt;

use expect_test::expect;
use xorpay::request::RequestError;
use xorpay::sign::{self, PayFields};
use xorpay::{AppSecret, PayType, Price, RequestKind, Signable, XorPayOrder};

fn secret() -> AppSecret {
    AppSecret::new("0123456789abcdef0123456789abcdef").unwrap()
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
}

/// The reference signature, from the per-formula signer (itself checked against the shared
/// vectors in xorpay-core's tests).
fn pay_signature(name: &str, pay_type: PayType, price: Price, order_id: &str, url: &str) -> String {
    sign::pay(
        &PayFields {
            name,
            pay_type,
            price,
            order_id,
            notify_url: url,
        },
        &secret(),
    )
    .to_string()
}

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = "https://shop.example.com/xorpay/notify")]
struct ConstantUrl {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    title: &'static str,
    #[xorpay(price)]
    total: Price,
    #[xorpay(order_uid)]
    customer: Option<String>,
    #[xorpay(more)]
    more: Option<String>,
    #[xorpay(expire)]
    ttl: std::time::Duration,
}

#[derive(XorPayOrder)]
#[xorpay(kind = native, notify_url = from_client)]
struct ClientUrl {
    #[xorpay(order_id)]
    id: u64,
    #[xorpay(name)]
    title: &'static str,
    #[xorpay(price)]
    total: Price,
}

#[test]
fn a_constant_notify_url_and_integer_order_id_sign_as_their_text() {
    let order = ConstantUrl {
        id: 20261127,
        title: "月卡",
        total: price("9.90"),
        customer: None,
        more: Some("gift wrap & card".into()),
        ttl: std::time::Duration::from_secs(900),
    };
    let expected = pay_signature(
        "月卡",
        PayType::Native,
        price("9.90"),
        "20261127",
        "https://shop.example.com/xorpay/notify",
    );
    assert_eq!(order.signature(&secret()).to_string(), expected);
    let request = order.to_request(&secret()).unwrap();
    assert_eq!(request.kind(), RequestKind::Native);
    assert_eq!(
        request.body(),
        format!(
            "name=%E6%9C%88%E5%8D%A1&pay_type=native&price=9.90&order_id=20261127\
             &notify_url=https%3A%2F%2Fshop.example.com%2Fxorpay%2Fnotify\
             &more=gift+wrap+%26+card&expire=900&sign={expected}"
        )
    );
}

#[test]
fn a_client_notify_url_is_attached_before_signing() {
    let order = ClientUrl {
        id: 7,
        title: "Tea",
        total: price("3.50"),
    };
    let url = "https://shop.example.com/n";
    let with_url = order.with_notify_url(url);
    assert_eq!(
        with_url.signature(&secret()).to_string(),
        pay_signature("Tea", PayType::Native, price("3.50"), "7", url)
    );
    assert!(
        with_url
            .to_request(&secret())
            .unwrap()
            .body()
            .contains("&notify_url=https%3A%2F%2Fshop.example.com%2Fn&")
    );
}

#[test]
fn an_empty_signed_value_is_refused_before_sending() {
    let order = ConstantUrl {
        id: 1,
        title: "",
        total: price("1"),
        customer: None,
        more: None,
        ttl: std::time::Duration::from_secs(60),
    };
    assert_eq!(
        order.to_request(&secret()),
        Err(RequestError::EmptyValue { field: "name" })
    );
}

/// An order id type of the application's own, shown through `Display`.
struct OrderNumber(u32);

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHOP-{:06}", self.0)
    }
}

#[derive(XorPayOrder)]
#[xorpay(kind = mini_program, appid = "wx1234567890abcdef")]
struct MiniOrder<N: fmt::Display> {
    #[xorpay(order_id)]
    number: N,
    #[xorpay(name)]
    title: String,
    #[xorpay(price)]
    total: Price,
    #[xorpay(openid)]
    openid: String,
    #[xorpay(notify_url)]
    notify: String,
}

#[test]
fn a_mini_program_order_sends_appid_and_is_mini_unsigned() {
    let order = MiniOrder {
        number: OrderNumber(42),
        title: "Coffee".into(),
        total: price("12.00"),
        openid: "o-mini".into(),
        notify: "https://shop.example.com/n".into(),
    };
    let expected = pay_signature(
        "Coffee",
        PayType::Jsapi,
        price("12.00"),
        "SHOP-000042",
        "https://shop.example.com/n",
    );
    let request = order.to_request(&secret()).unwrap();
    assert_eq!(request.kind(), RequestKind::MiniProgram);
    assert!(
        request.body().ends_with(&format!(
            "&openid=o-mini&appid=wx1234567890abcdef&is_mini=true&sign={expected}"
        )),
        "{}",
        request.body()
    );
}

#[test]
fn the_signature_can_be_explained_without_the_secret() {
    let order = MiniOrder {
        number: OrderNumber(42),
        title: "Coffee".into(),
        total: price("12.00"),
        openid: "o-mini".into(),
        notify: "https://shop.example.com/n".into(),
    };
    let explanation = order.explain_signature().to_string();
    expect![[r#"
        sign = md5(name + pay_type + price + order_id + notify_url + app_secret), jsapi request to /api/pay/{aid}
          1. name       = "Coffee"  <- field `title`
          2. pay_type   = "jsapi"  <- request kind
          3. price      = "12.00"  <- field `total`
          4. order_id   = "SHOP-000042"  <- field `number`
          5. notify_url = "https://shop.example.com/n"  <- field `notify`
          6. app_secret = <redacted>
          md5 input: "Coffeejsapi12.00SHOP-000042https://shop.example.com/n" + <app_secret>"#]]
    .assert_eq(&explanation);
    assert!(!explanation.contains("0123456789abcdef"));
    assert_eq!(
        MiniOrder::<u8>::SIGNATURE_FIELDS,
        [
            "name",
            "pay_type",
            "price",
            "order_id",
            "notify_url",
            "app_secret"
        ]
    );
}
