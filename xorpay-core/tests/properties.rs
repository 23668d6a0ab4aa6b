//! Property tests: `Price` round-trips exactly; the parsers never panic.

use proptest::prelude::*;
use xorpay_core::form::FormBody;
use xorpay_core::{AppSecret, Notification, NotificationError, Price, SignatureError};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    /// Every amount up to 10^12 fen (10 billion yuan) survives display → parse unchanged,
    /// and its wire form has exactly two decimals and no leading zeros.
    #[test]
    fn price_display_parse_round_trips(fen in 1u64..=1_000_000_000_000) {
        let price = Price::from_fen(fen).unwrap();
        let shown = price.to_string();
        prop_assert_eq!(shown.parse::<Price>(), Ok(price));
        let wire = price.to_wire();
        prop_assert_eq!(wire.as_str(), shown.as_str());
        let (whole, fraction) = shown.split_once('.').unwrap();
        prop_assert_eq!(fraction.len(), 2);
        prop_assert!(whole == "0" || !whole.starts_with('0'));
        prop_assert_eq!(whole.parse::<u64>().unwrap() * 100 + fraction.parse::<u64>().unwrap(), fen);
    }

    /// One decimal and no decimals mean the same amount as two.
    #[test]
    fn short_forms_parse_to_the_same_amount(yuan in 0u64..=10_000_000_000, tenths in 0u64..10) {
        prop_assume!(yuan > 0 || tenths > 0);
        let two = format!("{yuan}.{tenths}0").parse::<Price>().unwrap();
        prop_assert_eq!(format!("{yuan}.{tenths}").parse::<Price>(), Ok(two));
        if tenths == 0 {
            prop_assert_eq!(format!("{yuan}").parse::<Price>(), Ok(two));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The parser never panics on any string, and what it accepts is plain decimal.
    #[test]
    fn price_parser_never_panics(text in "\\PC{0,30}") {
        if let Ok(price) = text.parse::<Price>() {
            prop_assert!(text.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
            prop_assert!(price.fen() > 0);
        }
    }

    /// The notification parser and verifier never panic on arbitrary bytes.
    #[test]
    fn notification_parser_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..20_000)) {
        if let Ok(notification) = Notification::parse(&body) {
            let _ = notification.verify(&AppSecret::new("secret").unwrap());
        }
    }

    /// Nor on form-shaped input built from the real keys, escapes and separators, which
    /// reaches the deeper paths that random bytes rarely do.
    #[test]
    fn notification_parser_never_panics_on_forms(
        pairs in proptest::collection::vec(
            (
                prop_oneof![
                    Just("aoid"), Just("order_id"), Just("pay_price"), Just("pay_time"),
                    Just("more"), Just("detail"), Just("sign"), Just("%73ign"), Just(""),
                ],
                "([a-f0-9]{0,40}|%[0-9A-Fa-fG]{0,2}|\\+|&|=|[0-9.: -]{0,20}|\\PC{0,8})*",
            ),
            0..10,
        )
    ) {
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if let Ok(notification) = Notification::parse(body.join("&").as_bytes()) {
            let _ = notification.verify(&AppSecret::new("secret").unwrap());
        }
    }
}

/// The secret the properties sign with.
const SECRET: &str = "0123456789abcdef0123456789abcdef";

/// A notification body for these values, signed with [`SECRET`] by the test kit's MD5
/// oracle (not by the signer under test), every value form-encoded.
fn signed_body(order_id: &str, fen: u64, more: &str) -> String {
    let pay_price = Price::from_fen(fen).unwrap().to_string();
    let notification =
        xorpay_testkit::Notification::new("e19c8c8673ba42419043fc92b99303c1", order_id, &pay_price);
    let mut body = FormBody::new();
    body.pair("aoid", notification.aoid)
        .pair("order_id", order_id)
        .pair("pay_price", &pay_price)
        .pair("pay_time", notification.pay_time)
        .pair("more", more)
        .pair("sign", &notification.sign(SECRET));
    body.into_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1_000))]

    /// Whatever the order id (any Unicode, `&`, `=`, `%`, `+`) and amount, a correctly signed
    /// and encoded notification is accepted with exactly those values.
    #[test]
    fn genuine_notifications_with_any_values_verify(
        order_id in "\\PC{1,40}",
        fen in 1u64..=10_000_000_000,
        more in "\\PC{0,40}",
    ) {
        let secret = AppSecret::new(SECRET).unwrap();
        let body = signed_body(&order_id, fen, &more);
        let verified = Notification::parse(body.as_bytes()).unwrap().verify(&secret).unwrap();
        prop_assert_eq!(verified.order_id(), order_id.as_str());
        prop_assert_eq!(verified.pay_price().fen(), fen);
        prop_assert_eq!(verified.unverified_more(), Some(more.as_str()));
    }

    /// Changing one byte of the signed order id, or signing with another secret, is refused.
    #[test]
    fn any_change_to_a_signed_value_is_refused(
        order_id in "[a-zA-Z0-9/#-]{1,40}",
        fen in 1u64..=10_000_000_000,
        position in any::<proptest::sample::Index>(),
        replacement in "[a-zA-Z0-9]",
    ) {
        let secret = AppSecret::new(SECRET).unwrap();
        let at = position.index(order_id.len());
        let mut changed = order_id.clone();
        changed.replace_range(at..=at, &replacement);
        prop_assume!(changed != order_id);
        let genuine = signed_body(&order_id, fen, "");
        let encoded_original = FormBody::new().pair("order_id", &order_id).as_str().to_owned();
        let encoded_changed = FormBody::new().pair("order_id", &changed).as_str().to_owned();
        let tampered = genuine.replace(&encoded_original, &encoded_changed);
        prop_assert_eq!(
            Notification::parse(tampered.as_bytes()).unwrap().verify(&secret).map(drop),
            Err(NotificationError::Signature(SignatureError::Mismatch))
        );
        let other = AppSecret::new("0123456789abcdef0123456789abcdeg").unwrap();
        prop_assert!(Notification::parse(genuine.as_bytes()).unwrap().verify(&other).is_err());
    }
}
