//! A notification that differs from a genuine one in any way that matters is refused, each
//! way with its own error. The genuine notification is the third shared vector, signed
//! outside this project.

use xorpay_core::form::FormError;
use xorpay_core::{AppSecret, Notification, NotificationError, SignatureError};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const AOID: &str = "5f2b0a6c9e3d4b1a8c7e6d5f4a3b2c1d";
const ORDER_ID: &str = "ORD/2026/11/27#1";
const PAY_PRICE: &str = "12.30";
const PAY_TIME: &str = "2026-11-27 21:03:59";
const SIGN: &str = "c032a3beeca71854623548ecac167d4e";

fn secret() -> AppSecret {
    AppSecret::new(SECRET).unwrap()
}

/// The form body, values encoded the way XorPay's form encoder would.
fn body(aoid: &str, order_id: &str, pay_price: &str, pay_time: &str, sign: &str) -> String {
    let encode = |value: &str| {
        value
            .replace('%', "%25")
            .replace('/', "%2F")
            .replace('#', "%23")
            .replace(':', "%3A")
            .replace('+', "%2B")
            .replace(' ', "+")
            .replace('&', "%26")
    };
    format!(
        "aoid={}&order_id={}&pay_price={}&pay_time={}&more=gift&detail=%7B%7D&sign={}",
        encode(aoid),
        encode(order_id),
        encode(pay_price),
        encode(pay_time),
        encode(sign)
    )
}

fn verify(body: &str) -> Result<(), NotificationError> {
    Notification::parse(body.as_bytes())?
        .verify(&secret())
        .map(drop)
}

fn mismatch() -> Result<(), NotificationError> {
    Err(NotificationError::Signature(SignatureError::Mismatch))
}

#[test]
fn the_genuine_notification_is_accepted() {
    assert_eq!(
        verify(&body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN)),
        Ok(())
    );
}

#[test]
fn changing_any_single_signed_value_is_refused() {
    let tampered = [
        body(
            "5f2b0a6c9e3d4b1a8c7e6d5f4a3b2c1e",
            ORDER_ID,
            PAY_PRICE,
            PAY_TIME,
            SIGN,
        ),
        body(AOID, "ORD/2026/11/27#2", PAY_PRICE, PAY_TIME, SIGN),
        body(AOID, ORDER_ID, "1230.00", PAY_TIME, SIGN),
        body(AOID, ORDER_ID, "12.3", PAY_TIME, SIGN),
        body(AOID, ORDER_ID, PAY_PRICE, "2026-11-27 21:04:00", SIGN),
    ];
    for body in tampered {
        assert_eq!(verify(&body), mismatch(), "{body}");
    }
}

#[test]
fn added_whitespace_is_refused() {
    let tampered = [
        body(&format!("{AOID} "), ORDER_ID, PAY_PRICE, PAY_TIME, SIGN),
        body(AOID, &format!(" {ORDER_ID}"), PAY_PRICE, PAY_TIME, SIGN),
        body(AOID, ORDER_ID, &format!("{PAY_PRICE}\n"), PAY_TIME, SIGN),
        body(AOID, ORDER_ID, PAY_PRICE, "2026-11-27  21:03:59", SIGN),
    ];
    for body in tampered {
        assert_eq!(verify(&body), mismatch(), "{body}");
    }
    // Whitespace around the signature makes it malformed, not merely wrong.
    assert_eq!(
        verify(&body(
            AOID,
            ORDER_ID,
            PAY_PRICE,
            PAY_TIME,
            &format!("{SIGN} ")
        )),
        Err(NotificationError::Signature(SignatureError::WrongLength {
            len: 33
        }))
    );
}

#[test]
fn another_secret_is_refused() {
    let parsed =
        Notification::parse(body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN).as_bytes()).unwrap();
    for other in [
        "0123456789abcdef0123456789abcdeF",
        "mock_secret",
        "0123456789abcdef",
    ] {
        let result = parsed
            .clone()
            .verify(&AppSecret::new(other).unwrap())
            .map(drop);
        assert_eq!(result, mismatch(), "{other}");
    }
}

#[test]
fn an_uppercase_signature_is_accepted() {
    let upper = SIGN.to_uppercase();
    assert_eq!(
        verify(&body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, &upper)),
        Ok(())
    );
}

#[test]
fn signatures_of_the_wrong_shape_are_refused() {
    let cases = [
        (&SIGN[..31], SignatureError::WrongLength { len: 31 }),
        (
            &format!("{SIGN}0")[..],
            SignatureError::WrongLength { len: 33 },
        ),
        ("", SignatureError::WrongLength { len: 0 }),
        (&format!("{}z", &SIGN[..31])[..], SignatureError::NotHex),
        (&format!("{}-", &SIGN[..31])[..], SignatureError::NotHex),
    ];
    for (sign, error) in cases {
        assert_eq!(
            verify(&body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, sign)),
            Err(NotificationError::Signature(error)),
            "{sign:?}"
        );
    }
}

#[test]
fn a_duplicated_key_is_refused_with_its_own_error() {
    let genuine = body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN);
    for extra in [
        "&pay_price=9999.00",
        "&sign=c032a3beeca71854623548ecac167d4e",
        "&more=x",
    ] {
        let doubled = format!("{genuine}{extra}");
        assert!(
            matches!(
                Notification::parse(doubled.as_bytes()),
                Err(NotificationError::Form(FormError::DuplicateKey { .. }))
            ),
            "{doubled}"
        );
    }
}

#[test]
fn a_body_over_the_cap_is_refused_with_its_own_error() {
    let genuine = body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN);
    let padding = "x".repeat(Notification::MAX_BODY - genuine.len() + 1 - "&pad=".len());
    let oversized = format!("{genuine}&pad={padding}");
    assert_eq!(oversized.len(), Notification::MAX_BODY + 1);
    assert_eq!(
        Notification::parse(oversized.as_bytes()).map(drop),
        Err(NotificationError::TooLarge {
            limit: Notification::MAX_BODY
        })
    );
    // Exactly at the cap is still read (and verified).
    let at_cap = &oversized[..oversized.len() - 1];
    assert_eq!(verify(at_cap), Ok(()));
}

#[test]
fn missing_signed_fields_are_named() {
    let genuine = body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN);
    for field in ["aoid", "order_id", "pay_price", "pay_time", "sign"] {
        let without: Vec<&str> = genuine
            .split('&')
            .filter(|pair| !pair.starts_with(&format!("{field}=")))
            .collect();
        assert_eq!(
            Notification::parse(without.join("&").as_bytes()).map(drop),
            Err(NotificationError::MissingField { field }),
        );
    }
}

#[test]
fn encoding_tricks_do_not_change_what_is_verified() {
    // `%2523` decodes once to `%23`, which is not `#`: a double-decoder would accept this.
    let double_encoded = body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN).replace("%23", "%2523");
    assert_eq!(verify(&double_encoded), mismatch());
    // A broken escape is a form error, not a literal `%`.
    let broken = body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN).replace("&sign=", "&x=%2&sign=");
    assert!(matches!(
        Notification::parse(broken.as_bytes()),
        Err(NotificationError::Form(FormError::MalformedEscape { .. }))
    ));
}

#[test]
fn unsigned_fields_are_exposed_only_as_unverified() {
    let verified = Notification::parse(body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN).as_bytes())
        .unwrap()
        .verify(&secret())
        .unwrap();
    assert_eq!(verified.unverified_more(), Some("gift"));
    assert_eq!(verified.unverified_detail(), Some("{}"));
    assert_eq!(verified.unverified_payment_detail(), Default::default());
    assert_eq!(verified.pay_time().unwrap().offset().whole_hours(), 8);
    assert_eq!(
        verified.pay_time().unwrap().unix_timestamp(),
        // 2026-11-27 21:03:59 +08:00 is 13:03:59 UTC.
        1_795_784_639
    );
    // Changing `more` does not invalidate the signature: it is not covered.
    let other_more = body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN).replace("more=gift", "more=x");
    assert_eq!(verify(&other_more), Ok(()));
}

/// XorPay's notify formula has no separators, so a genuine notification can be re-cut at a
/// field boundary and still verify. `check` against the stored order refuses every re-cut.
#[test]
fn boundary_shifted_notifications_verify_but_do_not_match_the_order() {
    use xorpay_core::{Aoid, ExpectedPayment, PaymentMismatch, Price};

    let genuine_aoid = Aoid::new(AOID).unwrap();
    let stored = ExpectedPayment {
        aoid: &genuine_aoid,
        order_id: ORDER_ID,
        price: PAY_PRICE.parse().unwrap(),
    };
    let genuine = Notification::parse(body(AOID, ORDER_ID, PAY_PRICE, PAY_TIME, SIGN).as_bytes())
        .unwrap()
        .verify(&secret())
        .unwrap();
    assert_eq!(genuine.check(&stored), Ok(()));

    // Order "ORD/2026/11/27#1" paid 12.30 re-cut as order "ORD/2026/11/27#11" paid 2.30.
    let recut =
        Notification::parse(body(AOID, "ORD/2026/11/27#11", "2.30", PAY_TIME, SIGN).as_bytes())
            .unwrap()
            .verify(&secret())
            .expect("the formula cannot tell the re-cut apart");
    let other_aoid = Aoid::new("0f2b0a6c9e3d4b1a8c7e6d5f4a3b2c1d").unwrap();
    let victim = ExpectedPayment {
        aoid: &other_aoid,
        order_id: "ORD/2026/11/27#11",
        price: Price::from_fen(230).unwrap(),
    };
    assert_eq!(recut.check(&victim), Err(PaymentMismatch::Aoid));

    // Characters moved from the aoid into the order id.
    let shifted = Notification::parse(
        body(
            &AOID[..31],
            &format!("{}{ORDER_ID}", &AOID[31..]),
            PAY_PRICE,
            PAY_TIME,
            SIGN,
        )
        .as_bytes(),
    )
    .unwrap()
    .verify(&secret())
    .expect("the formula cannot tell the shift apart");
    assert_eq!(shifted.check(&stored), Err(PaymentMismatch::Aoid));

    // And the plain mismatches.
    let cheaper = ExpectedPayment {
        price: Price::from_fen(1229).unwrap(),
        ..stored
    };
    assert!(matches!(
        genuine.check(&cheaper),
        Err(PaymentMismatch::Amount { .. })
    ));
    let other_order = ExpectedPayment {
        order_id: "ORD/2026/11/27#2",
        ..stored
    };
    assert_eq!(genuine.check(&other_order), Err(PaymentMismatch::OrderId));
}
