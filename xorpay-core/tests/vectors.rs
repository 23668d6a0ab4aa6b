//! Every independent signature vector, through the formula it belongs to.

use xorpay_core::sign::{self, BarcodeFields, NotifyFields, PayFields};
use xorpay_core::{AppSecret, BarcodePayType, Notification, PayType, Price};

use xorpay_testkit::vectors::load as vectors;

fn secret(text: &str) -> AppSecret {
    AppSecret::new(text).expect("vector secret is valid")
}

fn pay_type(text: &str) -> PayType {
    match text {
        "native" => PayType::Native,
        "jsapi" => PayType::Jsapi,
        "alipay" => PayType::Alipay,
        other => panic!("vector has an unexpected pay_type {other}"),
    }
}

fn price(text: &str) -> Price {
    let price: Price = text.parse().expect("vector price parses");
    // The vectors are signed over the canonical form; a vector in another form would need
    // the raw string, which `Price` deliberately does not keep.
    assert_eq!(price.to_wire().as_str(), text);
    price
}

#[test]
fn pay_and_cashier_vectors() {
    let vectors = vectors().pay;
    assert_eq!(vectors.len(), 5);
    for v in vectors {
        assert!(v.endpoint == "pay" || v.endpoint == "cashier");
        let signature = sign::pay(
            &PayFields {
                name: &v.name,
                pay_type: pay_type(&v.pay_type),
                price: price(&v.price),
                order_id: &v.order_id,
                notify_url: &v.notify_url,
            },
            &secret(&v.secret),
        );
        assert_eq!(signature.as_str(), v.sign, "vector {:?}", v.name);
    }
}

#[test]
fn barcode_vectors() {
    let vectors = vectors().barcode;
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        let pay_type = match v.pay_type.as_str() {
            "wechat_barcode" => BarcodePayType::WechatBarcode,
            "alipay_barcode" => BarcodePayType::AlipayBarcode,
            other => panic!("unexpected barcode pay_type {other}"),
        };
        let signature = sign::barcode(
            &BarcodeFields {
                name: &v.name,
                pay_type,
                price: price(&v.price),
                order_id: &v.order_id,
                notify_url: &v.notify_url,
                barcode: &v.barcode,
            },
            &secret(&v.secret),
        );
        assert_eq!(signature.as_str(), v.sign, "vector {:?}", v.name);
    }
}

#[test]
fn query2_vectors() {
    let vectors = vectors().query2;
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        assert_eq!(
            sign::query2(&v.order_id, &secret(&v.secret)).as_str(),
            v.sign
        );
    }
}

#[test]
fn refund_vectors() {
    let vectors = vectors().refund;
    assert_eq!(vectors.len(), 2);
    for v in vectors {
        assert_eq!(
            sign::refund(price(&v.price), &secret(&v.secret)).as_str(),
            v.sign
        );
    }
}

#[test]
fn notify_vectors_through_the_formula() {
    let vectors = vectors().notify;
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let signature = sign::notify(
            &NotifyFields {
                aoid: &v.aoid,
                order_id: &v.order_id,
                pay_price: &v.pay_price,
                pay_time: &v.pay_time,
            },
            &secret(&v.secret),
        );
        assert_eq!(signature.as_str(), v.sign);
    }
}

/// Percent-encodes every byte that is not unreserved, so the body exercises decoding.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn notify_vectors_through_the_parser_and_verifier() {
    let vectors = vectors().notify;
    assert_eq!(vectors.len(), 3);
    for v in vectors {
        let body = format!(
            "aoid={}&order_id={}&pay_price={}&pay_time={}&more=&detail=%7B%7D&sign={}",
            encode(&v.aoid),
            encode(&v.order_id),
            encode(&v.pay_price),
            encode(&v.pay_time),
            v.sign
        );
        let verified = Notification::parse(body.as_bytes())
            .expect("parses")
            .verify(&secret(&v.secret))
            .unwrap_or_else(|e| panic!("vector {:?} refused: {e}", v.order_id));
        assert_eq!(verified.order_id(), v.order_id);
        assert_eq!(verified.aoid().as_str(), v.aoid);
        assert_eq!(verified.raw_pay_price(), v.pay_price);
        assert_eq!(verified.raw_pay_time(), v.pay_time);
        assert_eq!(verified.pay_price(), price(&v.pay_price));
    }
}
