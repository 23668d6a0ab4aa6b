//! Payment notifications (回调通知, docs/protocol.md §7): parse the form XorPay posts, verify its
//! signature, and only then hand out a [`VerifiedNotification`].
//!
//! A notification is untrusted input from the internet until its signature checks out, so
//! parsing is strict: a size cap, UTF-8 only, percent-decoding exactly once, every required
//! field present, none of the seven fields twice (see [`crate::form`]). The signature is
//! checked over the decoded values exactly as received, never re-formatted, and compared in
//! constant time.
//!
//! Parsing allocates once: every decoded value goes into one buffer the size of the body,
//! and the hash is fed from it directly. A verified notification owns that buffer and its
//! `aoid`, nothing else.
//!
//! `more` and `detail` are not covered by XorPay's signature, so they are only available
//! through methods whose names say `unverified`.
//!
//! This module does not decide what a payment means for an order (amount and order checks,
//! idempotency): that is the order and store's job. It also does not answer XorPay.

use core::fmt;
use core::ops::Range;

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::credentials::AppSecret;
use crate::form::{self, FormError};
use crate::price::{Price, PriceError};
use crate::response::Aoid;
use crate::sign::{self, SignatureError};

/// China Standard Time, UTC+8: the zone `pay_time` is presumed to be in (the docs give none;
/// docs/protocol.md §6.4).
pub const CHINA_STANDARD_TIME: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// Why a notification was refused. Answer XorPay with a non-200 status for every one of
/// them, so that a genuine notification is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// The body is larger than [`Notification::MAX_BODY`].
    #[error("notification body is larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The body is not a well-formed form (including a key given twice).
    #[error("notification body is not a valid form: {0}")]
    Form(#[from] FormError),
    /// A field the signature covers is absent.
    #[error("notification has no `{field}`")]
    MissingField {
        /// The field's name.
        field: &'static str,
    },
    /// The signature is malformed or does not match: forged, tampered, or the wrong secret.
    #[error("notification signature refused: {0}")]
    Signature(#[from] SignatureError),
    /// The signature matched but the `aoid` cannot be used.
    #[error("notification aoid is invalid")]
    InvalidAoid,
    /// The signature matched but `pay_price` is not a price.
    #[error("notification pay_price is invalid: {0}")]
    InvalidPayPrice(PriceError),
}

/// A notification parsed from its form body, not yet verified.
///
/// Nothing in it can be trusted yet; call [`Notification::verify`].
#[derive(Clone)]
pub struct Notification {
    /// Every decoded value, one after the other.
    text: String,
    /// Where each of [`FIELDS`] starts and ends in `text` (the first five are present).
    /// Positions fit in a `u16`: a body is at most [`Notification::MAX_BODY`] bytes.
    at: [Option<(u16, u16)>; 7],
}

/// The fields read, in the order of `Notification::at`: the four signed ones in signature
/// order, then `sign`, then the two unsigned ones.
const FIELDS: [&str; 7] = [
    "aoid",
    "order_id",
    "pay_price",
    "pay_time",
    "sign",
    "more",
    "detail",
];
/// [`FIELDS`] in the order XorPay posts them (docs/protocol.md §7).
const POSTED: [usize; 7] = [AOID, ORDER_ID, PAY_PRICE, PAY_TIME, MORE, DETAIL, SIGN];
/// Before any field.
const START: usize = FIELDS.len();
/// The field XorPay posts after each of [`FIELDS`], and at [`START`] the first; past the end
/// of [`FIELDS`] after the last.
const AFTER: [usize; FIELDS.len() + 1] = {
    let mut after = [FIELDS.len(); FIELDS.len() + 1];
    after[START] = POSTED[0];
    let mut place = 1;
    while place < POSTED.len() {
        after[POSTED[place - 1]] = POSTED[place];
        place += 1;
    }
    after
};

/// Where each of [`FIELDS`] is in the decoded text, as the form is read.
struct Found {
    at: [Option<(u16, u16)>; 7],
    /// The field kept last, or [`START`]: the one [`AFTER`] it is expected next, and its key
    /// taken without decoding when it comes.
    last: usize,
}

impl form::Keep for Found {
    type Key = usize;
    type Error = NotificationError;

    #[inline(always)]
    fn expected(&self) -> Option<(&'static str, usize)> {
        let field = *AFTER.get(self.last)?;
        Some((*FIELDS.get(field)?, field))
    }

    fn key(&self, key: &[u8]) -> Option<usize> {
        FIELDS.iter().position(|name| name.as_bytes() == key)
    }

    #[inline(always)]
    fn value(&mut self, field: usize, value: Range<usize>) -> Result<(), NotificationError> {
        let too_large = |_| NotificationError::TooLarge {
            limit: Notification::MAX_BODY,
        };
        let span = (
            u16::try_from(value.start).map_err(too_large)?,
            u16::try_from(value.end).map_err(too_large)?,
        );
        if self.at[field].replace(span).is_some() {
            return Err(FormError::DuplicateKey {
                key: FIELDS[field].to_owned(),
            }
            .into());
        }
        self.last = field;
        Ok(())
    }
}
const AOID: usize = 0;
const ORDER_ID: usize = 1;
const PAY_PRICE: usize = 2;
const PAY_TIME: usize = 3;
const SIGN: usize = 4;
const MORE: usize = 5;
const DETAIL: usize = 6;

impl fmt::Debug for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notification")
            .field("aoid", &self.field(AOID))
            .field("order_id", &self.field(ORDER_ID))
            .field("pay_price", &self.field(PAY_PRICE))
            .field("pay_time", &self.field(PAY_TIME))
            .field("verified", &false)
            .finish_non_exhaustive()
    }
}

impl Notification {
    /// The largest body accepted, in bytes. XorPay's notifications are a few hundred bytes;
    /// `more` is the merchant's own text echoed back.
    pub const MAX_BODY: usize = 16 * 1024;

    /// Parses the raw body XorPay posted (`application/x-www-form-urlencoded`).
    ///
    /// Fields other than the seven documented ones are ignored (still well-formed, or the
    /// body is refused); none of the seven may be repeated.
    ///
    /// # Errors
    /// [`NotificationError::TooLarge`], [`NotificationError::Form`] or
    /// [`NotificationError::MissingField`].
    pub fn parse(body: &[u8]) -> Result<Notification, NotificationError> {
        if body.len() > Notification::MAX_BODY {
            return Err(NotificationError::TooLarge {
                limit: Notification::MAX_BODY,
            });
        }
        let mut found = Found {
            at: Default::default(),
            last: START,
        };
        let text = form::decode_kept(body, &mut found)?;
        let at = found.at;
        if let Some(missing) = (AOID..=SIGN).find(|&field| at[field].is_none()) {
            return Err(NotificationError::MissingField {
                field: FIELDS[missing],
            });
        }
        // Every value was checked to be UTF-8 on its own as it was read.
        let text = String::from_utf8(text).map_err(|_| FormError::InvalidUtf8)?;
        Ok(Notification { text, at })
    }

    /// A field's decoded value, if the body had it.
    fn field(&self, field: usize) -> Option<&str> {
        self.at[field].and_then(|(start, end)| self.text.get(usize::from(start)..usize::from(end)))
    }

    /// The values of `fields` as one piece of `text`, when they sit there side by side in
    /// this order. XorPay posts the four signed fields first and in the signature's order, so
    /// they can usually be hashed in one piece.
    fn side_by_side<const N: usize>(&self, fields: [usize; N]) -> Option<&str> {
        let mut end = None;
        let mut start = None;
        for field in fields {
            let (from, to) = self.at[field]?;
            if end.is_some_and(|end| end != from) {
                return None;
            }
            start.get_or_insert(from);
            end = Some(to);
        }
        self.text.get(usize::from(start?)..usize::from(end?))
    }

    /// A field `parse` made sure of.
    fn required(&self, field: usize) -> &str {
        self.field(field).unwrap_or_default()
    }

    /// The `order_id` as claimed by the sender, before verification: only for choosing which
    /// merchant's secret to verify with, never for acting on.
    pub fn unverified_order_id(&self) -> &str {
        self.required(ORDER_ID)
    }

    /// Verifies the signature `md5(aoid + order_id + pay_price + pay_time + secret)` over the
    /// values as received, then reads `aoid` and `pay_price`.
    ///
    /// ```
    /// use xorpay::{AppSecret, Notification};
    ///
    /// let body = b"aoid=e19c8c8673ba42419043fc92b99303c1&order_id=order-1&pay_price=50.00\
    ///     &pay_time=2019-01-01+00%3A00%3A00&more=&detail=%7B%7D&sign=1697d616f596edc250419d79f754ad16";
    /// let secret = AppSecret::new("mock_secret")?;
    /// let paid = Notification::parse(body)?.verify(&secret)?;
    /// assert_eq!(paid.order_id(), "order-1");
    /// assert_eq!(paid.pay_price().fen(), 5000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`NotificationError::Signature`] for a malformed or wrong signature; after a matching
    /// one, [`NotificationError::InvalidAoid`] or [`NotificationError::InvalidPayPrice`]. A
    /// `pay_time` in no known form is not an error: it is informational, and a genuine
    /// payment must not be refused for it (it stays readable as
    /// [`VerifiedNotification::raw_pay_time`]).
    pub fn verify(self, secret: &AppSecret) -> Result<VerifiedNotification, NotificationError> {
        let fields = [AOID, ORDER_ID, PAY_PRICE, PAY_TIME];
        match self.side_by_side(fields) {
            Some(signed) => sign::verify_notify(&[signed], secret, self.required(SIGN))?,
            None => sign::verify_notify(
                &fields.map(|f| self.required(f)),
                secret,
                self.required(SIGN),
            )?,
        }

        let aoid = Aoid::new(self.required(AOID)).map_err(|_| NotificationError::InvalidAoid)?;
        let pay_price = self
            .required(PAY_PRICE)
            .parse::<Price>()
            .map_err(NotificationError::InvalidPayPrice)?;
        Ok(VerifiedNotification {
            aoid,
            pay_price,
            raw: self,
        })
    }
}

/// `pay_time` is `YYYY-MM-DD HH:MM:SS` in China time per the docs; one peer SDK's tests use
/// Unix seconds (docs/protocol.md §8 item 18), which is accepted too.
fn parse_pay_time(text: &str) -> Option<OffsetDateTime> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = text.parse::<i64>().ok()?;
        // `to_offset` would panic on the last hours `time` holds: they are past its range
        // in China time.
        return OffsetDateTime::from_unix_timestamp(seconds)
            .ok()?
            .checked_to_offset(CHINA_STANDARD_TIME);
    }
    // `YYYY-MM-DD HH:MM:SS`, read by position (every notification has one).
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b' ',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
    ] = *text.as_bytes()
    else {
        return None;
    };
    let two = |tens: u8, ones: u8| -> Option<u8> {
        let (tens, ones) = (tens.wrapping_sub(b'0'), ones.wrapping_sub(b'0'));
        (tens < 10 && ones < 10).then_some(tens * 10 + ones)
    };
    let year = i32::from(two(y0, y1)?) * 100 + i32::from(two(y2, y3)?);
    let month = time::Month::try_from(two(m0, m1)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, two(d0, d1)?).ok()?;
    let time = time::Time::from_hms(two(h0, h1)?, two(i0, i1)?, two(s0, s1)?).ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_offset(CHINA_STANDARD_TIME))
}

/// A payment notification whose signature has been verified with the merchant's secret.
///
/// There is no way to build one outside this crate except [`Notification::verify`]: no public
/// constructor, no `Deserialize`.
///
/// Holding one proves that the *concatenation* `aoid + order_id + pay_price + pay_time` was
/// signed with the secret, and no more. XorPay's formula has no separators, so characters can
/// be moved across a field boundary without changing the signature: a genuine notification for
/// order `order-1` paid `150.00` also verifies as order `order-11` paid `50.00`. Before acting
/// on a notification, compare all of its signed fields with the order as stored at creation,
/// with [`VerifiedNotification::check`]: the `aoid` XorPay returned for that order pins the
/// boundaries down.
#[derive(Clone)]
pub struct VerifiedNotification {
    aoid: Aoid,
    pay_price: Price,
    raw: Notification,
}

impl VerifiedNotification {
    /// XorPay's order id.
    pub fn aoid(&self) -> &Aoid {
        &self.aoid
    }

    /// The merchant's order number.
    pub fn order_id(&self) -> &str {
        self.raw.required(ORDER_ID)
    }

    /// Checks that this notification is about `expected`: same `aoid`, same `order_id` and
    /// exactly the same amount.
    ///
    /// # Errors
    /// The first [`PaymentMismatch`] found.
    pub fn check(&self, expected: &ExpectedPayment<'_>) -> Result<(), PaymentMismatch> {
        if self.aoid != *expected.aoid {
            return Err(PaymentMismatch::Aoid);
        }
        if self.order_id() != expected.order_id {
            return Err(PaymentMismatch::OrderId);
        }
        if self.pay_price != expected.price {
            return Err(PaymentMismatch::Amount {
                expected: expected.price,
                paid: self.pay_price,
            });
        }
        Ok(())
    }

    /// The amount paid.
    pub fn pay_price(&self) -> Price {
        self.pay_price
    }

    /// The payment time, in China Standard Time (UTC+8); `None` when XorPay wrote it in
    /// neither documented form (`YYYY-MM-DD HH:MM:SS`, Unix seconds; see
    /// [`VerifiedNotification::raw_pay_time`]). Read from the signed text when asked: it
    /// never decides whether a notification is accepted.
    pub fn pay_time(&self) -> Option<OffsetDateTime> {
        parse_pay_time(self.raw_pay_time())
    }

    /// `pay_price` exactly as signed (e.g. `"50.00"`).
    pub fn raw_pay_price(&self) -> &str {
        self.raw.required(PAY_PRICE)
    }

    /// `pay_time` exactly as signed (e.g. `"2019-01-01 00:00:00"`).
    pub fn raw_pay_time(&self) -> &str {
        self.raw.required(PAY_TIME)
    }

    /// `more`, the text sent when the order was created. **Not covered by the signature**:
    /// anyone who can replay a genuine notification can change it. Never act on it alone.
    pub fn unverified_more(&self) -> Option<&str> {
        self.raw.field(MORE)
    }

    /// `detail` as sent: JSON text with `transaction_id`, `bank_type` and `buyer`. **Not
    /// covered by the signature.**
    pub fn unverified_detail(&self) -> Option<&str> {
        self.raw.field(DETAIL)
    }

    /// `detail` read leniently: absent, `{}` or unreadable JSON give empty fields. **Not
    /// covered by the signature.**
    pub fn unverified_payment_detail(&self) -> PaymentDetail {
        self.raw
            .field(DETAIL)
            .and_then(|detail| serde_json::from_str(detail).ok())
            .unwrap_or_default()
    }
}

impl fmt::Debug for VerifiedNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedNotification")
            .field("aoid", &self.aoid)
            .field("order_id", &self.order_id())
            .field("pay_price", &self.pay_price)
            .field("pay_time", &self.pay_time())
            .finish_non_exhaustive()
    }
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for VerifiedNotification {}

/// What proves a payment to a pending order: a [`VerifiedNotification`], and nothing else.
/// Sealed. It exists so that passing a notification that was parsed but not verified is an
/// error that says how to verify it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not prove a payment: verify the notification first",
    label = "not a verified notification",
    note = "a notification proves a payment only once its signature is checked: `Notification::parse(body)?.verify(&secret)?` gives a `VerifiedNotification`; `payments.confirm(body)` does all of it and records the payment"
)]
pub trait PaymentProof: sealed::Sealed {
    /// The verified notification.
    #[doc(hidden)]
    fn into_verified(self) -> VerifiedNotification;
}

impl PaymentProof for VerifiedNotification {
    fn into_verified(self) -> VerifiedNotification {
        self
    }
}

/// What a merchant stored when an order was created, to compare a notification with.
#[derive(Debug, Clone, Copy)]
pub struct ExpectedPayment<'a> {
    /// The `aoid` XorPay answered when the order was created.
    pub aoid: &'a Aoid,
    /// The merchant's order number.
    pub order_id: &'a str,
    /// The amount the order was created for.
    pub price: Price,
}

/// A verified notification that is not about the expected order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentMismatch {
    /// The `aoid` differs.
    #[error("notification is for another xorpay order (aoid differs)")]
    Aoid,
    /// The `order_id` differs.
    #[error("notification is for another order (order_id differs)")]
    OrderId,
    /// The amount differs.
    #[error("notification amount {paid} differs from the order's {expected}")]
    Amount {
        /// The order's amount.
        expected: Price,
        /// The notification's amount.
        paid: Price,
    },
}

/// The channel's details of a payment (docs/protocol.md §6.5). Every field is optional: WeChat
/// reportedly sends `{}` at times.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PaymentDetail {
    /// The channel's transaction number.
    #[serde(default)]
    pub transaction_id: Option<String>,
    /// The payment method, e.g. `ALIPAYACCOUNT` or a WeChat bank code.
    #[serde(default)]
    pub bank_type: Option<String>,
    /// The payer, e.g. a masked Alipay account.
    #[serde(default)]
    pub buyer: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key decoded, none taken by its bytes: [`Found`] without the expected key.
    struct Decoding(Found);

    impl form::Keep for Decoding {
        type Key = usize;
        type Error = NotificationError;

        fn expected(&self) -> Option<(&'static str, usize)> {
            None
        }

        fn key(&self, key: &[u8]) -> Option<usize> {
            self.0.key(key)
        }

        fn value(&mut self, field: usize, value: Range<usize>) -> Result<(), NotificationError> {
            self.0.value(field, value)
        }
    }

    /// Taking the expected key by its bytes reads every body as decoding every key does:
    /// the same values where they are, the same error and offset otherwise. Every body of up
    /// to four pieces among keys (plain, escaped, cut short, one letter longer), values,
    /// separators, escapes (well-formed, malformed, invalid UTF-8) and `$`.
    #[test]
    fn expected_keys_read_bodies_as_decoding_every_key_does() {
        const PIECES: [&str; 24] = [
            "aoid=",
            "order_id=",
            "pay_price=",
            "pay_time=",
            "more=",
            "detail=",
            "sign=",
            "%61oid=",
            "aoid",
            "aoidx=",
            "sig",
            "x=",
            "&",
            "&&",
            "=",
            "a",
            "$",
            "+",
            "%",
            "%2",
            "%41",
            "%E6%B5%8B",
            "%FF",
            "%24%26",
        ];
        let read = |body: &[u8], expected: bool| {
            let found = Found {
                at: Default::default(),
                last: START,
            };
            if expected {
                let mut found = found;
                form::decode_kept(body, &mut found).map(|text| (text, found.at))
            } else {
                let mut decoding = Decoding(found);
                form::decode_kept(body, &mut decoding).map(|text| (text, decoding.0.at))
            }
        };
        let mut bodies = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = bodies
                .iter()
                .flat_map(|body| PIECES.iter().map(move |piece| format!("{body}{piece}")))
                .collect();
            bodies.extend(longer);
        }
        let mut taken = 0;
        for body in &bodies {
            let fast = read(body.as_bytes(), true);
            assert_eq!(fast, read(body.as_bytes(), false), "{body:?}");
            taken += usize::from(fast.is_ok());
        }
        assert!(taken > 10_000, "only {taken} bodies were read");
    }

    /// The signed values are hashed in one piece when they sit side by side in formula
    /// order, and in four otherwise: both give the same answer.
    #[test]
    fn signed_fields_in_any_order_verify_alike() {
        let secret = AppSecret::new("mock_secret").unwrap();
        let sign = "sign=1697d616f596edc250419d79f754ad16";
        let [aoid, order_id, pay_price, pay_time] = [
            "aoid=e19c8c8673ba42419043fc92b99303c1",
            "order_id=order-1",
            "pay_price=50.00",
            "pay_time=2019-01-01+00%3A00%3A00",
        ];
        let orders = [
            [aoid, order_id, pay_price, pay_time, sign],
            [sign, pay_time, pay_price, order_id, aoid],
            [order_id, aoid, pay_price, pay_time, sign],
            [aoid, order_id, sign, pay_price, pay_time],
        ];
        for (i, fields) in orders.iter().enumerate() {
            let parsed = Notification::parse(fields.join("&").as_bytes()).unwrap();
            let side_by_side = parsed
                .side_by_side([AOID, ORDER_ID, PAY_PRICE, PAY_TIME])
                .is_some();
            assert_eq!(side_by_side, i == 0, "{fields:?}");
            assert_eq!(parsed.verify(&secret).unwrap().order_id(), "order-1");
        }
        // Side by side but one character moved across a boundary: still signed alike
        // (docs/protocol.md §8), so it verifies; the aoid check catches it later.
        let moved = "aoid=e19c8c8673ba42419043fc92b99303c1o&order_id=rder-1&pay_price=50.00\
                     &pay_time=2019-01-01+00%3A00%3A00&sign=1697d616f596edc250419d79f754ad16";
        let paid = Notification::parse(moved.as_bytes())
            .unwrap()
            .verify(&secret)
            .unwrap();
        assert_eq!(paid.order_id(), "rder-1");
        let tampered = moved.replace("50.00", "51.00");
        assert!(matches!(
            Notification::parse(tampered.as_bytes())
                .unwrap()
                .verify(&secret),
            Err(NotificationError::Signature(SignatureError::Mismatch))
        ));
    }

    #[test]
    fn pay_time_is_china_time_in_both_forms() {
        let doc_style = parse_pay_time("2019-01-01 00:00:00").unwrap();
        assert_eq!(doc_style.offset(), CHINA_STANDARD_TIME);
        assert_eq!(doc_style.unix_timestamp(), 1_546_272_000);
        let unix = parse_pay_time("1680000000").unwrap();
        assert_eq!(unix.unix_timestamp(), 1_680_000_000);
        assert_eq!(unix.offset(), CHINA_STANDARD_TIME);
        assert_eq!(parse_pay_time(""), None);
        assert_eq!(parse_pay_time("2019-13-01 00:00:00"), None);
        assert_eq!(parse_pay_time("2019-01-01T00:00:00"), None);
        assert_eq!(parse_pay_time("2019-02-29 00:00:00"), None);
        assert_eq!(
            parse_pay_time("2020-02-29 23:59:59").map(|t| t.unix_timestamp()),
            Some(1_582_991_999)
        );
        assert_eq!(parse_pay_time("2019-01-01 24:00:00"), None);
        assert_eq!(parse_pay_time("2019-01-01 00:60:00"), None);
        assert_eq!(parse_pay_time("2019-1-01 00:00:00"), None);
        assert_eq!(parse_pay_time("2019-01-01 0a:00:00"), None);
        assert_eq!(parse_pay_time("2019-01-01 00:00:0/"), None);
        assert_eq!(parse_pay_time("99999999999999999999"), None);
    }

    /// The last second `time` can hold in UTC is already the next year 10000 in China time:
    /// such a `pay_time`, signed, leaves the time unread instead of panicking in `verify`.
    #[test]
    fn a_unix_pay_time_past_the_last_china_time_is_unread() {
        let secret = AppSecret::new("mock_secret").unwrap();
        let signed = [
            "e19c8c8673ba42419043fc92b99303c1",
            "order-1",
            "50.00",
            "253402300799",
        ];
        // Signed with `md-5` itself, not with the code under test.
        let digest = <md5::Md5 as md5::Digest>::digest(format!("{}mock_secret", signed.concat()));
        let sign: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        let body = format!(
            "aoid={}&order_id={}&pay_price={}&pay_time={}&sign={sign}",
            signed[0], signed[1], signed[2], signed[3]
        );
        let paid = Notification::parse(body.as_bytes())
            .unwrap()
            .verify(&secret)
            .unwrap();
        assert_eq!(paid.pay_time(), None);
        assert_eq!(paid.raw_pay_time(), "253402300799");
        // One second earlier is the last one China time can hold; the written form holds
        // the first and last days whole.
        assert_eq!(parse_pay_time("253402271999").map(|t| t.year()), Some(9999));
        let first = parse_pay_time("0000-01-01 00:00:00").unwrap();
        assert_eq!((first.year(), first.offset()), (0, CHINA_STANDARD_TIME));
        let last = parse_pay_time("9999-12-31 23:59:59").unwrap();
        assert_eq!(last.unix_timestamp(), 253_402_271_999);
    }
}
