//! Every pay, cashier and barcode vector of the shared signature vectors, signed through
//! structs that derive `XorPayOrder`, whatever the order of their fields.

use std::borrow::Cow;

use xorpay::{AppSecret, Price, Signable, XorPayOrder};

use xorpay_testkit::vectors::load as vectors;

/// Declared in protocol order.
#[derive(XorPayOrder)]
#[xorpay(kind = native)]
struct NativeOrder {
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(order_id)]
    order_id: String,
    #[xorpay(notify_url)]
    notify_url: String,
}

/// Declared in reverse protocol order, with borrowed and unmapped fields in between.
#[derive(XorPayOrder)]
#[xorpay(kind = jsapi)]
struct ReversedJsapiOrder<'a> {
    #[xorpay(openid)]
    openid: &'a str,
    #[xorpay(notify_url)]
    callback: Cow<'a, str>,
    internal_note: Vec<u8>,
    #[xorpay(order_id)]
    number: &'a str,
    #[xorpay(price)]
    amount: Price,
    #[xorpay(name)]
    title: &'a str,
}

#[derive(XorPayOrder)]
#[xorpay(kind = alipay)]
struct AlipayOrder {
    #[xorpay(price)]
    price: Price,
    #[xorpay(name)]
    name: String,
    #[xorpay(notify_url)]
    notify_url: String,
    #[xorpay(order_id)]
    order_id: String,
    #[xorpay(expire)]
    expire: Option<u32>,
}

#[derive(XorPayOrder)]
#[xorpay(kind = cashier)]
struct CashierOrder {
    #[xorpay(notify_url)]
    notify_url: String,
    #[xorpay(order_id)]
    order_id: String,
    #[xorpay(name)]
    name: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(cancel_url)]
    cancel_url: Option<String>,
}

#[derive(XorPayOrder)]
#[xorpay(kind = wechat_barcode)]
struct WechatBarcodeOrder {
    #[xorpay(barcode)]
    code: String,
    #[xorpay(notify_url)]
    notify_url: String,
    #[xorpay(order_id)]
    order_id: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(name)]
    name: String,
}

#[derive(XorPayOrder)]
#[xorpay(kind = alipay_barcode)]
struct AlipayBarcodeOrder {
    #[xorpay(name)]
    name: String,
    #[xorpay(barcode)]
    code: String,
    #[xorpay(price)]
    price: Price,
    #[xorpay(order_id)]
    order_id: String,
    #[xorpay(notify_url)]
    notify_url: String,
}

fn secret(text: &str) -> AppSecret {
    AppSecret::new(text).unwrap()
}

/// Decodes a form body (test-only, lenient) into its pairs.
fn pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap();
            let value = value.replace('+', " ");
            let mut bytes = Vec::new();
            let mut rest = value.as_bytes();
            while let Some((&b, tail)) = rest.split_first() {
                if b == b'%' {
                    bytes.push(
                        u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap(),
                    );
                    rest = &tail[2..];
                } else {
                    bytes.push(b);
                    rest = tail;
                }
            }
            (key.to_owned(), String::from_utf8(bytes).unwrap())
        })
        .collect()
}

/// The signature, the request's `sign` pair and the body's signed values all agree.
fn assert_signs(
    order: &impl Signable,
    secret: &AppSecret,
    expected: &str,
    signed: &[(&str, &str)],
) {
    assert_eq!(order.signature(secret).unwrap().as_str(), expected);
    let request = order.to_request(secret).unwrap();
    assert_eq!(request.signature().as_str(), expected);
    let pairs = pairs(request.body());
    assert_eq!(
        pairs.last().unwrap(),
        &("sign".to_owned(), expected.to_owned())
    );
    // The body starts with the signed values, in the signature's order, byte for byte.
    for ((key, value), (want_key, want_value)) in pairs.iter().zip(signed) {
        assert_eq!((key.as_str(), value.as_str()), (*want_key, *want_value));
    }
}

#[test]
fn pay_and_cashier_vectors_through_derived_structs() {
    let mut seen = 0;
    for v in vectors().pay {
        let secret = secret(&v.secret);
        let price: Price = v.price.parse().unwrap();
        let signed = [
            ("name", v.name.as_str()),
            ("pay_type", v.pay_type.as_str()),
            ("price", v.price.as_str()),
            ("order_id", v.order_id.as_str()),
            ("notify_url", v.notify_url.as_str()),
        ];
        match (v.endpoint.as_str(), v.pay_type.as_str()) {
            ("pay", "native") => {
                let order = NativeOrder {
                    name: v.name.clone(),
                    price,
                    order_id: v.order_id.clone(),
                    notify_url: v.notify_url.clone(),
                };
                assert_signs(&order, &secret, &v.sign, &signed);
            }
            ("pay", "jsapi") => {
                let order = ReversedJsapiOrder {
                    openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                    callback: Cow::Borrowed(&v.notify_url),
                    internal_note: vec![1, 2, 3],
                    number: &v.order_id,
                    amount: price,
                    title: &v.name,
                };
                assert_signs(&order, &secret, &v.sign, &signed);
                let body = order.to_request(&secret).unwrap();
                assert!(pairs(body.body()).contains(&("openid".into(), order.openid.into())));
                // Unmapped fields are the application's own and never sent.
                assert_eq!(order.internal_note, [1, 2, 3]);
                assert!(!body.body().contains("internal_note"));
            }
            ("pay", "alipay") => {
                let order = AlipayOrder {
                    price,
                    name: v.name.clone(),
                    notify_url: v.notify_url.clone(),
                    order_id: v.order_id.clone(),
                    expire: Some(600),
                };
                assert_signs(&order, &secret, &v.sign, &signed);
                let body = order.to_request(&secret).unwrap();
                assert!(pairs(body.body()).contains(&("expire".into(), "600".into())));
            }
            ("cashier", "jsapi") => {
                let order = CashierOrder {
                    notify_url: v.notify_url.clone(),
                    order_id: v.order_id.clone(),
                    name: v.name.clone(),
                    price,
                    cancel_url: None,
                };
                assert_signs(&order, &secret, &v.sign, &signed);
            }
            other => panic!("no struct for vector kind {other:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 5);
}

#[test]
fn barcode_vectors_through_derived_structs() {
    let vectors = vectors().barcode;
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        let secret = secret(&v.secret);
        let price: Price = v.price.parse().unwrap();
        let signed = [
            ("name", v.name.as_str()),
            ("pay_type", v.pay_type.as_str()),
            ("price", v.price.as_str()),
            ("order_id", v.order_id.as_str()),
            ("notify_url", v.notify_url.as_str()),
            ("barcode", v.barcode.as_str()),
        ];
        match v.pay_type.as_str() {
            "wechat_barcode" => {
                let order = WechatBarcodeOrder {
                    code: v.barcode.clone(),
                    notify_url: v.notify_url.clone(),
                    order_id: v.order_id.clone(),
                    price,
                    name: v.name.clone(),
                };
                assert_signs(&order, &secret, &v.sign, &signed);
            }
            "alipay_barcode" => {
                let order = AlipayBarcodeOrder {
                    name: v.name.clone(),
                    code: v.barcode.clone(),
                    price,
                    order_id: v.order_id.clone(),
                    notify_url: v.notify_url.clone(),
                };
                assert_signs(&order, &secret, &v.sign, &signed);
            }
            other => panic!("unexpected barcode pay_type {other}"),
        }
    }
}
