//! What a merchant relies on beyond the signature vectors: where `notify_url` comes from,
//! optional and unsigned fields, non-string field types, refused values, the mini program's
//! extra parameters, and the `sign_error` debugging aid.
//!
//! Expected signatures were computed outside the project, with Python's `hashlib.md5` over
//! the UTF-8 concatenation and the secret `0123456789abcdef0123456789abcdef`.

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use expect_test::expect;
use xorpay::prelude::*;
use xorpay::request::RequestError;
use xorpay::{AppSecret, Price, RequestKind};

fn secret() -> AppSecret {
    AppSecret::new("0123456789abcdef0123456789abcdef").unwrap()
}

fn price(text: &str) -> Price {
    text.parse().unwrap()
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
    ttl: Duration,
}

fn constant_url() -> ConstantUrl {
    ConstantUrl {
        id: 20261127,
        title: "月卡",
        total: price("9.90"),
        customer: None,
        more: Some("gift wrap & card".into()),
        ttl: Duration::from_secs(900),
    }
}

#[test]
fn a_constant_notify_url_and_an_integer_order_id_sign_as_their_text() {
    let order = constant_url();
    // md5("月卡" "native" "9.90" "20261127" "https://shop.example.com/xorpay/notify" secret)
    let expected = "19076c65ec7ef39e7041457c963ef768";
    assert_eq!(order.signature(&secret()).unwrap().as_str(), expected);
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
fn a_client_notify_url_is_attached_before_signing() {
    let order = ClientUrl {
        id: 7,
        title: "Tea",
        total: price("3.50"),
    };
    let with_url = order.with_notify_url("https://shop.example.com/n");
    // md5("Tea" "native" "3.50" "7" "https://shop.example.com/n" secret)
    assert_eq!(
        with_url.signature(&secret()).unwrap().as_str(),
        "05475adb1a8330d0fd624adfd23a8418"
    );
    assert!(
        with_url
            .to_request(&secret())
            .unwrap()
            .body()
            .contains("&notify_url=https%3A%2F%2Fshop.example.com%2Fn&")
    );
    // A blank, relative or otherwise unusable URL would never be called back.
    assert_eq!(
        order.with_notify_url("").to_request(&secret()).map(drop),
        Err(RequestError::EmptyValue {
            field: "notify_url"
        })
    );
    for bad in ["/n", "https://", "https://shop.example.com/a b", "ftp://x"] {
        assert!(
            matches!(
                order.with_notify_url(bad).to_request(&secret()),
                Err(RequestError::InvalidValue {
                    field: "notify_url",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn values_xorpay_would_refuse_are_refused_before_sending() {
    let empty_name = ConstantUrl {
        title: "",
        ..constant_url()
    };
    assert_eq!(
        empty_name.to_request(&secret()).map(drop),
        Err(RequestError::EmptyValue { field: "name" })
    );
    assert_eq!(
        empty_name.signature(&secret()).map(drop),
        Err(RequestError::EmptyValue { field: "name" })
    );
    let no_lifetime = ConstantUrl {
        ttl: Duration::ZERO,
        ..constant_url()
    };
    assert!(matches!(
        no_lifetime.to_request(&secret()),
        Err(RequestError::InvalidValue {
            field: "expire",
            ..
        })
    ));
    // Half a second asks for one second, never for zero.
    let half_second = ConstantUrl {
        ttl: Duration::from_millis(500),
        ..constant_url()
    };
    assert!(
        half_second
            .to_request(&secret())
            .unwrap()
            .body()
            .contains("&expire=1&")
    );
}

/// An order id type of the application's own, shown through `Display`.
struct OrderNumber(u32);

impl fmt::Display for OrderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SHOP-{:06}", self.0)
    }
}

/// A `Display` that writes part of its text and then fails.
struct Broken;

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("abc")?;
        Err(fmt::Error)
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

fn mini<N: fmt::Display>(number: N) -> MiniOrder<N> {
    MiniOrder {
        number,
        title: "Coffee".into(),
        total: price("12.00"),
        openid: "o-mini".into(),
        notify: "https://shop.example.com/n".into(),
    }
}

#[test]
fn a_mini_program_order_sends_appid_and_is_mini_unsigned() {
    let request = mini(OrderNumber(42)).to_request(&secret()).unwrap();
    assert_eq!(request.kind(), RequestKind::MiniProgram);
    // md5("Coffee" "jsapi" "12.00" "SHOP-000042" "https://shop.example.com/n" secret)
    let expected = "06ca4e7d8e2e8abad40a2008a5f2601b";
    assert!(
        request.body().ends_with(&format!(
            "&openid=o-mini&appid=wx1234567890abcdef&is_mini=true&sign={expected}"
        )),
        "{}",
        request.body()
    );
}

#[test]
fn a_failing_display_is_an_error_not_a_truncated_value() {
    let order = mini(Broken);
    assert_eq!(
        order.to_request(&secret()).map(drop),
        Err(RequestError::Format { field: "order_id" })
    );
    assert_eq!(
        order.signature(&secret()).map(drop),
        Err(RequestError::Format { field: "order_id" })
    );
    let explained = order.explain_signature().to_string();
    assert!(
        explained.contains("<its Display implementation failed>"),
        "{explained}"
    );
}

#[test]
fn the_signature_can_be_explained_without_the_secret() {
    let explanation = mini(OrderNumber(42)).explain_signature().to_string();
    expect![[r#"
        sign = md5(name + pay_type + price + order_id + notify_url + app_secret), mini_program request to /api/pay/{aid}
          1. name       = "Coffee"  <- field `title`
          2. pay_type   = "jsapi"  <- request kind
          3. price      = "12.00"  <- field `total`
          4. order_id   = "SHOP-000042"  <- field `number`
          5. notify_url = "https://shop.example.com/n"  <- field `notify`
          6. app_secret = <redacted>
          md5 input, then the secret: Coffeejsapi12.00SHOP-000042https://shop.example.com/n"#]]
    .assert_eq(&explanation);
    assert_eq!(
        mini(OrderNumber(42)).kind().signature_fields(),
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

/// Every spelling of a text field, signed alike.
#[derive(XorPayOrder)]
#[xorpay(kind = jsapi, notify_url = "https://shop.example.com/n")]
struct Spellings<'a> {
    #[xorpay(name)]
    r#type: Box<str>,
    #[xorpay(order_id)]
    id: Rc<str>,
    #[xorpay(openid)]
    openid: Arc<str>,
    #[xorpay(more)]
    more: Cow<'a, str>,
    #[xorpay(price)]
    price: &'a Price,
}

#[test]
fn boxed_shared_and_borrowed_text_and_raw_field_names_work() {
    let one_fen = Price::MIN;
    let order = Spellings {
        r#type: "n".into(),
        id: "1".into(),
        openid: "o".into(),
        more: Cow::Borrowed("m"),
        price: &one_fen,
    };
    // md5("n" "jsapi" "0.01" "1" "https://shop.example.com/n" secret)
    assert_eq!(
        order.signature(&secret()).unwrap().as_str(),
        "f9ecd72891d1254ce0e7c97dd47f8185"
    );
    let explained = order.explain_signature().to_string();
    assert!(explained.contains("<- field `type`"), "{explained}");
}
