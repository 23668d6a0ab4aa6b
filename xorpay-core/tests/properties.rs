//! Property tests: `Price` round-trips exactly; the parsers never panic.

use proptest::prelude::*;
use xorpay_core::{AppSecret, Notification, Price};

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
