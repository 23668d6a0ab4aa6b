//! What every parser of network input must keep, whatever the bytes: no panic, and each
//! answer checked against an oracle that does not use the code under test (a decimal model
//! for prices, `md-5` called directly for signatures, a byte-by-byte model and re-encoding
//! for the form decoder).
//!
//! The same functions run under proptest in `tests/hostile_input.rs` and under libFuzzer in
//! `fuzz/fuzz_targets/`, which include this file by path.

use xorpay::form::{FormBody, FormError, decode};
use xorpay::{AppSecret, Notification, NotificationError, Price};

/// The secret every property signs and verifies with.
pub(crate) const SECRET: &str = "mock_secret";

/// The form decoder agrees with [`model_decode`], accepting and refusing the same bodies; a
/// body it accepts has unique keys, and encoding its pairs again with `FormBody` decodes to
/// the same pairs (decoding happened once, nothing was lost).
pub(crate) fn form(body: &[u8]) {
    let decoded = decode(body);
    assert_eq!(
        decoded.as_ref().ok(),
        model_decode(body).as_ref().ok(),
        "decode({:?}) = {decoded:?}",
        String::from_utf8_lossy(body)
    );
    let Ok(pairs) = decoded else {
        return;
    };
    for (i, (key, _)) in pairs.iter().enumerate() {
        assert!(
            pairs[..i].iter().all(|(seen, _)| seen != key),
            "key {key:?} accepted twice"
        );
    }
    let mut again = FormBody::new();
    for (key, value) in &pairs {
        again.pair(key, value);
    }
    assert_eq!(
        decode(again.as_str().as_bytes()),
        Ok(pairs),
        "re-encoded form decodes differently"
    );
}

/// Why [`model_decode`] refused a body.
#[derive(Debug, PartialEq)]
pub(crate) enum ModelError {
    /// Malformed escape, invalid UTF-8 or a segment without `=`.
    Malformed,
    /// A key given twice.
    Duplicate(String),
}

/// The form rules read one byte at a time, as plainly as they are written: split on `&`,
/// skip empty segments, split each at its first `=` (none is an error), decode `+` and
/// `%XX` once (a `%` without two hex digits is an error), each key and value UTF-8 on its
/// own, no key twice.
pub(crate) fn model_decode(body: &[u8]) -> Result<Vec<(String, String)>, ModelError> {
    let pairs = model_pairs(body)?;
    for (i, (key, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(seen, _)| seen == key) {
            return Err(ModelError::Duplicate(key.clone()));
        }
    }
    Ok(pairs)
}

/// [`model_decode`] but for repeated keys, which it keeps, in body order.
fn model_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ModelError> {
    fn component(raw: &[u8]) -> Result<String, ModelError> {
        let mut bytes = Vec::new();
        let mut at = 0;
        while at < raw.len() {
            match raw[at] {
                b'+' => bytes.push(b' '),
                b'%' => {
                    let digits = raw.get(at + 1..at + 3).ok_or(ModelError::Malformed)?;
                    let digits = std::str::from_utf8(digits).map_err(|_| ModelError::Malformed)?;
                    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(ModelError::Malformed);
                    }
                    bytes.push(u8::from_str_radix(digits, 16).map_err(|_| ModelError::Malformed)?);
                    at += 2;
                }
                byte => bytes.push(byte),
            }
            at += 1;
        }
        String::from_utf8(bytes).map_err(|_| ModelError::Malformed)
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for segment in body.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let eq = segment
            .iter()
            .position(|&b| b == b'=')
            .ok_or(ModelError::Malformed)?;
        let key = component(&segment[..eq])?;
        let value = component(&segment[eq + 1..])?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// `Price` parsing agrees with a model of the grammar XorPay uses (`digits`, or `digits.d` /
/// `digits.dd`, not zero, fitting in `u64` fen), and the wire form of what it parsed reads
/// back as the same price.
pub(crate) fn price(text: &str) {
    let parsed = text.parse::<Price>();
    assert_eq!(
        parsed.as_ref().ok().map(|price| price.fen()),
        model_fen(text),
        "Price::from_str({text:?}) = {parsed:?}"
    );
    if let Ok(price) = parsed {
        let wire = price.to_wire();
        assert_eq!(wire.as_str().parse::<Price>(), Ok(price));
        assert_eq!(Price::from_fen(price.fen()), Ok(price));
    }
}

/// The decimal model `price` is checked against, in `u128` so overflow is seen, not wrapped.
fn model_fen(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, "00"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(fraction) || fraction.len() > 2 {
        return None;
    }
    let mut fen: u128 = 0;
    for digit in whole.bytes().chain(fraction.bytes()) {
        fen = fen.checked_mul(10)?.checked_add(u128::from(digit - b'0'))?;
    }
    if fraction.len() == 1 {
        fen = fen.checked_mul(10)?;
    }
    u64::try_from(fen).ok().filter(|&fen| fen > 0)
}

/// A notification body: whatever it is, verification accepts it only when its `sign` is the
/// MD5 of its four decoded signed values and the secret (computed here with `md-5` directly);
/// and the same fields re-signed that way are always accepted, unless `aoid` or `pay_price`
/// is unusable, which is refused by name.
/// The fields a notification reads, in the order XorPay posts them (docs/protocol.md §7).
pub(crate) const READ: [&str; 7] = [
    "aoid",
    "order_id",
    "pay_price",
    "pay_time",
    "more",
    "detail",
    "sign",
];

pub(crate) fn notification(body: &[u8]) {
    let secret = AppSecret::new(SECRET).expect("a valid secret");
    let parsed = Notification::parse(body);
    if body.len() > Notification::MAX_BODY {
        assert!(matches!(parsed, Err(NotificationError::TooLarge { .. })));
        return;
    }
    let Ok(pairs) = model_pairs(body) else {
        assert!(parsed.is_err(), "parse accepted a body the model refuses");
        return;
    };
    // A notification ignores the keys it does not read, repeated ones too; one it reads
    // given twice is refused.
    let count = |name: &str| pairs.iter().filter(|(key, _)| key == name).count();
    if READ.iter().any(|name| count(name) > 1) {
        assert!(
            matches!(
                parsed,
                Err(NotificationError::Form(FormError::DuplicateKey { .. }))
            ),
            "a field read twice gave {parsed:?}"
        );
        return;
    }
    let complete = ["aoid", "order_id", "pay_price", "pay_time", "sign"]
        .iter()
        .all(|name| count(name) == 1);
    let parsed = match parsed {
        Ok(parsed) => {
            assert!(complete, "parse accepted a body without every signed field");
            parsed
        }
        Err(error) => {
            assert!(
                !complete && matches!(error, NotificationError::MissingField { .. }),
                "parse refused a well-formed body: {error:?}"
            );
            return;
        }
    };
    let unsigned = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .expect("a parsed notification has every signed field")
    };
    let signed = [
        field("aoid"),
        field("order_id"),
        field("pay_price"),
        field("pay_time"),
    ];
    let expected = md5_hex(&signed);
    match parsed.verify(&secret) {
        Ok(paid) => {
            assert!(
                field("sign").eq_ignore_ascii_case(&expected),
                "forged sign accepted"
            );
            assert_eq!(paid.aoid().as_str(), signed[0]);
            assert_pay_time(&paid, signed[3]);
            assert_eq!(paid.unverified_more(), unsigned("more"));
            assert_eq!(paid.unverified_detail(), unsigned("detail"));
            assert_eq!(paid.order_id(), signed[1]);
            assert_eq!(paid.raw_pay_price(), signed[2]);
            assert_eq!(
                paid.pay_price(),
                signed[2].parse::<Price>().expect("verified price")
            );
        }
        Err(NotificationError::Signature(_)) => {
            assert!(
                !field("sign").eq_ignore_ascii_case(&expected),
                "genuine sign refused"
            );
        }
        Err(NotificationError::InvalidAoid | NotificationError::InvalidPayPrice(_)) => {
            assert!(field("sign").eq_ignore_ascii_case(&expected));
        }
        Err(other) => panic!("verify refused a parsed notification with {other:?}"),
    }

    // Re-signed: accepted, or refused only for its aoid or price.
    let mut resigned = FormBody::new();
    for (key, value) in pairs.iter().filter(|(key, _)| key != "sign") {
        resigned.pair(key, value);
    }
    resigned.pair("sign", &expected);
    let verified = Notification::parse(resigned.as_str().as_bytes())
        .expect("a re-signed notification parses")
        .verify(&secret);
    match verified {
        Ok(paid) => {
            assert_eq!(paid.order_id(), signed[1]);
            assert_eq!(paid.aoid().as_str(), signed[0]);
            assert_pay_time(&paid, signed[3]);
        }
        Err(NotificationError::InvalidAoid) => assert!(xorpay::Aoid::new(signed[0]).is_err()),
        Err(NotificationError::InvalidPayPrice(_)) => assert!(signed[2].parse::<Price>().is_err()),
        Err(other) => panic!("a correctly signed notification was refused: {other:?}"),
    }
}

/// A verified notification read its `pay_time` as [`model_pay_time`] does: the same moment,
/// in China time, or none.
fn assert_pay_time(paid: &xorpay::VerifiedNotification, raw: &str) {
    assert_eq!(paid.raw_pay_time(), raw);
    let read = paid.pay_time();
    assert_eq!(
        read.map(|time| time.unix_timestamp()),
        model_pay_time(raw),
        "pay_time {raw:?}"
    );
    if let Some(time) = read {
        assert_eq!(time.offset().whole_seconds(), 8 * 3600, "China time");
    }
}

/// `pay_time` by a calendar written here: `YYYY-MM-DD HH:MM:SS` in China time (UTC+8), or
/// Unix seconds up to the last second the `time` crate holds in China time
/// (9999-12-31 23:59:59 +08:00); the moment as Unix seconds, or `None`.
pub(crate) fn model_pay_time(raw: &str) -> Option<i64> {
    let number = |digits: &[u8]| -> Option<i64> {
        let mut value: i64 = 0;
        for &digit in digits {
            if !digit.is_ascii_digit() {
                return None;
            }
            value = value
                .checked_mul(10)?
                .checked_add(i64::from(digit - b'0'))?;
        }
        (!digits.is_empty()).then_some(value)
    };
    if let Some(seconds) = number(raw.as_bytes()) {
        return (seconds <= 253_402_271_999).then_some(seconds);
    }
    // Split at the separators; each part has exactly its width of digits.
    let (date, time) = raw.split_once(' ')?;
    let part = |text: &str, width: usize| (text.len() == width).then(|| number(text.as_bytes()))?;
    let parts = |text: &str, separator: char, widths: [usize; 3]| -> Option<[i64; 3]> {
        let mut pieces = text.split(separator);
        let read = widths.map(|width| pieces.next().and_then(|piece| part(piece, width)));
        match (read, pieces.next()) {
            ([Some(a), Some(b), Some(c)], None) => Some([a, b, c]),
            _ => None,
        }
    };
    let [year, month, day] = parts(date, '-', [4, 2, 2])?;
    let [hour, minute, second] = parts(time, ':', [2, 2, 2])?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let last_day = *days_in_month.get(usize::try_from(month).ok()?.checked_sub(1)?)?;
    if !(1..=last_day).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date, counted from March (H. Hinnant's
    // `days_from_civil`).
    let (year, month) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second - 8 * 3_600)
}

/// `md5(concat(values) + SECRET)` in lowercase hex.
pub(crate) fn md5_hex(values: &[&str]) -> String {
    let mut parts = values.to_vec();
    parts.push(SECRET);
    xorpay_testkit::md5_hex(&parts)
}

/// XorPay's JSON answers: every parser either refuses the body or gives a value whose
/// `into_result` and `Debug` do not panic, and a successful order answer carries a usable
/// `aoid` (the parsers are the crate's own; it exposes this check for fuzzing).
pub(crate) fn response(body: &[u8]) {
    xorpay::__private::check_answers(body);
}
