//! Network input however malformed: the properties of `tests/properties` under proptest (the
//! long runs are the cargo-fuzz targets in `fuzz/`, `scripts/fuzz.sh`), and the cases other
//! webhook verifiers got wrong, as regression tests.

mod properties;

use proptest::prelude::*;
use xorpay::form::FormBody;
use xorpay::{AppSecret, Notification, NotificationError, SignatureError};

/// The genuine notifications of the shared signature vectors, as XorPay posts them.
fn genuine_bodies() -> Vec<(String, String)> {
    xorpay_testkit::vectors::load()
        .notify
        .into_iter()
        .filter(|vector| vector.secret == properties::SECRET)
        .map(|vector| {
            let mut body = FormBody::new();
            body.pair("aoid", &vector.aoid)
                .pair("order_id", &vector.order_id)
                .pair("pay_price", &vector.pay_price)
                .pair("pay_time", &vector.pay_time)
                .pair("more", "")
                .pair("detail", "{}")
                .pair("sign", &vector.sign);
            (body.into_string(), vector.sign)
        })
        .collect()
}

#[test]
fn the_genuine_vectors_pass_the_notification_property() {
    let bodies = genuine_bodies();
    assert!(!bodies.is_empty());
    for (body, _) in &bodies {
        properties::notification(body.as_bytes());
        let secret = AppSecret::new(properties::SECRET).unwrap();
        assert!(
            Notification::parse(body.as_bytes())
                .unwrap()
                .verify(&secret)
                .is_ok()
        );
    }
}

/// `sign=`, `sign=0`, 31 of the 32 characters, 33, and a non-hex last character: each refused
/// for its own reason before any comparison (a verifier that compares only the prefix it was
/// given, or treats a missing value as "no signature to check", accepts some of them).
#[test]
fn empty_and_short_signatures_are_refused() {
    let secret = AppSecret::new(properties::SECRET).unwrap();
    for (body, sign) in genuine_bodies() {
        let cases = [
            (String::new(), SignatureError::WrongLength { len: 0 }),
            ("0".to_owned(), SignatureError::WrongLength { len: 1 }),
            (
                sign[..31].to_owned(),
                SignatureError::WrongLength { len: 31 },
            ),
            (format!("{sign}0"), SignatureError::WrongLength { len: 33 }),
            (format!("{}g", &sign[..31]), SignatureError::NotHex),
            ("0".repeat(32), SignatureError::Mismatch),
        ];
        for (forged, reason) in cases {
            let body = body.replace(&format!("sign={sign}"), &format!("sign={forged}"));
            let verdict = Notification::parse(body.as_bytes())
                .expect("still a well-formed notification")
                .verify(&secret)
                .map(|paid| paid.order_id().to_owned());
            assert_eq!(
                verdict,
                Err(NotificationError::Signature(reason)),
                "sign={forged:?}"
            );
        }
        let without = body.replace(&format!("&sign={sign}"), "");
        assert_eq!(
            Notification::parse(without.as_bytes()).map(|_| ()),
            Err(NotificationError::MissingField { field: "sign" })
        );
    }
}

/// Found by the notification fuzz target on the one-buffer parser: `aoid` ending in the first
/// half of a two-byte UTF-8 character and `order_id` starting with the second. Each value is
/// invalid on its own, but side by side in the parser's buffer they made valid UTF-8, and the
/// body was accepted with its fields cut mid-character. Each value is checked on its own now.
#[test]
fn values_invalid_on_their_own_are_refused_even_when_adjacent_bytes_complete_them() {
    let body = b"aoid=e1'1%DE&order_id=%A41&pay_price=0&pay_time=20&sign=";
    assert_eq!(
        Notification::parse(body).map(|_| ()),
        Err(NotificationError::Form(
            xorpay::form::FormError::InvalidUtf8
        ))
    );
    // The fuzzer's own input (raw bytes, not escapes), kept as a seed.
    properties::notification(include_bytes!("../fuzz/seeds/notification/split-utf8"));
}

/// Every fuzzing seed still keeps its target's property.
#[test]
fn every_fuzz_seed_keeps_its_property() {
    let seeds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut count = 0;
    for (target, property) in [
        ("form", properties::form as fn(&[u8])),
        ("notification", properties::notification),
        ("price", |bytes: &[u8]| {
            if let Ok(text) = std::str::from_utf8(bytes) {
                properties::price(text);
            }
        }),
    ] {
        for seed in std::fs::read_dir(seeds.join(target)).unwrap() {
            property(&std::fs::read(seed.unwrap().path()).unwrap());
            count += 1;
        }
    }
    assert!(count >= 30, "only {count} seeds found");
}

/// A notification's field value: a hex id, a price, a time, escapes and separators, any
/// text.
fn field_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-f0-9]{32}",
        "[0-9]{1,4}\\.[0-9]{2}",
        "2026-12-0[1-9] 1[0-9]:00:00",
        "(%[0-9A-Fa-f]{2}|%|[=&+a-z0-9 ])*",
        any::<String>(),
    ]
}

/// Bodies shaped like notifications: XorPay's field names, random values, sometimes a
/// correct signature, sometimes escapes and separators inside values.
fn notification_like() -> impl Strategy<Value = Vec<u8>> {
    let value = field_value();
    let key = prop_oneof![
        Just("aoid"),
        Just("order_id"),
        Just("pay_price"),
        Just("pay_time"),
        Just("more"),
        Just("detail"),
        Just("sign"),
        Just("x"),
    ];
    // Each pair encoded, or (`raw`) written as it is: a bare `%`, `=` or `+`, UTF-8, a
    // malformed escape reach the parser inside otherwise complete notifications.
    let pair = (key, value, proptest::bool::weighted(0.2));
    (proptest::collection::vec(pair, 0..9), any::<bool>()).prop_map(|(pairs, sign_it)| {
        let mut body = FormBody::new();
        let mut raw = Vec::new();
        let mut signed = [""; 4];
        for (key, value, written_raw) in &pairs {
            if let Some(slot) = ["aoid", "order_id", "pay_price", "pay_time"]
                .iter()
                .position(|name| name == key)
            {
                signed[slot] = value.as_str();
            }
            if sign_it && *key == "sign" {
                continue;
            }
            if *written_raw {
                raw.push(format!("{key}={value}"));
            } else {
                body.pair(key, value);
            }
        }
        if sign_it {
            body.pair("sign", &properties::md5_hex(&signed));
        }
        let mut body = body.into_string();
        for pair in raw {
            body.push('&');
            body.push_str(&pair);
        }
        body.into_bytes()
    })
}

/// Bodies in the order XorPay posts its fields (which the parser reads fastest): each field
/// sometimes left out, its key sometimes spelled with an escape or nearly right, any
/// [`field_value`], sometimes a correct signature.
fn in_posted_order() -> impl Strategy<Value = Vec<u8>> {
    let spelling = prop_oneof![
        6 => Just(0), // as it is
        1 => Just(1), // its first letter escaped: the same key
        1 => Just(2), // one letter more: another key
        1 => Just(3), // left out
    ];
    (
        proptest::collection::vec((spelling, field_value()), 7),
        any::<bool>(),
    )
        .prop_map(|(fields, sign_it)| {
            let mut body = String::new();
            let mut signed = [""; 4];
            for (place, (key, (spelling, value))) in
                properties::READ.iter().zip(&fields).enumerate()
            {
                if let Some(slot) = signed.get_mut(place) {
                    *slot = value.as_str();
                }
                let value = if *key == "sign" && sign_it {
                    properties::md5_hex(&signed)
                } else {
                    let mut encoded = FormBody::new();
                    encoded.pair("v", value);
                    encoded.as_str()[2..].to_owned()
                };
                let key = match spelling {
                    0 => (*key).to_owned(),
                    1 => format!("%{:02X}{}", key.as_bytes()[0], &key[1..]),
                    2 => format!("{key}x"),
                    _ => continue,
                };
                if !body.is_empty() {
                    body.push('&');
                }
                body.push_str(&format!("{key}={value}"));
            }
            body.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    #[test]
    fn form_decoding_of_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        properties::form(&body);
    }

    #[test]
    fn form_decoding_of_form_like_text(body in "([a-z$%+=&]|%[0-9A-Fa-f]{2}|%[E-F][0-9A-F]%[89AB][0-9A-F])*") {
        properties::form(body.as_bytes());
    }

    #[test]
    fn price_parsing_of_any_text(text in any::<String>()) {
        properties::price(&text);
    }

    #[test]
    fn price_parsing_of_price_like_text(text in "[0-9]{0,22}(\\.[0-9]{0,3})?|[+ -]?[0-9.eE]{1,6}") {
        properties::price(&text);
    }

    #[test]
    fn notification_parsing_of_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        properties::notification(&body);
    }

    #[test]
    fn notification_parsing_of_notification_like_bodies(body in notification_like()) {
        properties::notification(&body);
    }

    #[test]
    fn notification_parsing_of_bodies_in_posted_order(body in in_posted_order()) {
        properties::notification(&body);
    }

    /// A correctly signed notification whatever its `pay_time`: read as the model reads it,
    /// never a panic (Unix seconds past the last China time once panicked in `verify`).
    #[test]
    fn notification_pay_time_of_any_text(
        pay_time in prop_oneof![
            "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}",
            "[0-9]{1,20}",
            // Unix seconds about the last one China time holds (253402271999).
            "25340[0-9]{7}",
            any::<String>(),
        ],
    ) {
        let signed = ["e19c8c8673ba42419043fc92b99303c1", "order-1", "50.00", pay_time.as_str()];
        let mut body = FormBody::new();
        body.pair("aoid", signed[0])
            .pair("order_id", signed[1])
            .pair("pay_price", signed[2])
            .pair("pay_time", signed[3])
            .pair("sign", &properties::md5_hex(&signed));
        properties::notification(body.as_str().as_bytes());
    }

    #[test]
    fn response_parsing_of_any_bytes(body in proptest::collection::vec(any::<u8>(), 0..128)) {
        properties::response(&body);
    }

    #[test]
    fn response_parsing_of_json_like_answers(
        status in prop_oneof![Just("ok".to_owned()), Just("success".to_owned()), Just("sign_error".to_owned()), Just("payed".to_owned()), "[a-z_]{0,12}"],
        aoid in prop_oneof!["[a-f0-9]{32}", any::<String>()],
        info in prop_oneof![Just("\"weixin://wxpay/bizpayurl?pr=x\"".to_owned()), Just("{}".to_owned()), Just("null".to_owned()), "[0-9]{1,20}"],
        expire in prop_oneof![Just("600".to_owned()), Just("-1".to_owned()), Just("\"600\"".to_owned()), Just("1e309".to_owned())],
    ) {
        let aoid = serde_json::to_string(&aoid).unwrap();
        for body in [
            format!(r#"{{"status":"{status}","aoid":{aoid},"info":{info},"expire_in":{expire}}}"#),
            format!(r#"{{"status":"{status}","aoid":{aoid},"info":{info},"expires_in":{expire}}}"#),
            format!(r#"{{"status":"{status}","aoid":{aoid},"pay_status":"{status}"}}"#),
        ] {
            properties::response(body.as_bytes());
        }
    }
}
