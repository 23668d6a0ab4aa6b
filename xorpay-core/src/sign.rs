//! Signing: XorPay's MD5 signatures, computed without allocation and compared in constant
//! time.
//!
//! Every XorPay signature is `md5(v1 + v2 + … + app_secret)` over the UTF-8 bytes of the
//! plain, decoded values, concatenated with no separator, as lowercase hex (docs/protocol.md §1.3).
//! What differs between endpoints is which values, and in which order. This module offers one
//! function per formula, each taking its values by name so that they cannot be swapped:
//!
//! | function | formula |
//! |---|---|
//! | [`pay`] | `name + pay_type + price + order_id + notify_url + secret` (pay and cashier) |
//! | [`barcode`] | `name + pay_type + price + order_id + notify_url + barcode + secret` |
//! | [`query2`] | `order_id + secret` |
//! | [`refund`] | `price + secret` |
//! | [`notify`] | `aoid + order_id + pay_price + pay_time + secret` |
//!
//! A received signature is checked with [`Signature::verify`]: it must be exactly 32 hex
//! digits, either case (XorPay's own demos send uppercase), and is compared in constant time.
//!
//! This module does not URL-encode, trim or reformat anything: it signs exactly the values it
//! is given, which must be exactly the values that are sent.

use core::fmt;

use subtle::ConstantTimeEq;

mod blocks;

use blocks::Md5Blocks;

use crate::credentials::AppSecret;
use crate::hex;
use crate::pay_type::{BarcodePayType, PayType};
use crate::price::{Price, WIRE_CAPACITY};

/// A streaming MD5 signer: values go in one by one, in formula order, then the secret.
///
/// It implements [`fmt::Write`], so any `Display` value (an integer order id, say) can be fed
/// with `write!` without building a `String` first. This is the engine under the per-formula
/// functions and under `#[derive(XorPayOrder)]`; it is not public API, because it cannot know
/// the order a formula requires.
#[derive(Clone)]
pub(crate) struct Signer {
    md5: Md5Blocks,
}

impl Signer {
    pub(crate) fn new() -> Signer {
        Signer {
            md5: Md5Blocks::new(),
        }
    }

    /// Feeds the UTF-8 bytes of one value.
    #[inline]
    pub(crate) fn value(&mut self, value: &str) -> &mut Signer {
        self.md5.update(value.as_bytes());
        self
    }

    /// Feeds a price in its wire form, formatted on the stack.
    #[inline]
    pub(crate) fn price(&mut self, price: Price) -> &mut Signer {
        let mut buf = [0u8; WIRE_CAPACITY];
        let start = price.write_wire(&mut buf);
        self.md5.update(buf.get(start..).unwrap_or_default());
        self
    }

    /// Feeds the secret last and produces the signature. The signer is then a new one (it
    /// is borrowed, not consumed, so that its buffer is not copied to a new place first).
    pub(crate) fn finish(&mut self, secret: &AppSecret) -> Signature {
        Signature::from_digest(self.digest(secret))
    }

    /// Feeds the secret last and produces the MD5 digest itself, as MD5's four state words
    /// (the digest is their little-endian bytes).
    fn digest(&mut self, secret: &AppSecret) -> [u32; 4] {
        self.md5.update(secret.expose());
        self.md5.finish()
    }
}

impl fmt::Write for Signer {
    fn write_str(&mut self, part: &str) -> fmt::Result {
        self.md5.update(part.as_bytes());
        Ok(())
    }
}

/// A computed signature: 32 lowercase hex characters, held on the stack.
///
/// Equality is constant-time. To check a signature someone sent you, use
/// [`Signature::verify`], which also validates its shape.
#[derive(Clone, Copy)]
pub struct Signature {
    hex: [u8; 32],
}

/// Why a received signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The received value is not 32 characters long.
    #[error("signature must be 32 hex characters, got {len} bytes")]
    WrongLength {
        /// The received length in bytes.
        len: usize,
    },
    /// The received value holds a character that is not a hex digit.
    #[error("signature must be hexadecimal")]
    NotHex,
    /// The received signature is well-formed but does not match.
    #[error("signature does not match")]
    Mismatch,
}

impl Signature {
    fn from_digest(digest: [u32; 4]) -> Signature {
        let mut digits = [0u8; 32];
        for (eight, word) in digits.as_chunks_mut::<8>().0.iter_mut().zip(digest) {
            *eight = hex::eight_digits(word);
        }
        Signature { hex: digits }
    }

    /// The signature as 32 lowercase hex characters, as XorPay expects in `sign`.
    pub fn as_str(&self) -> &str {
        // Only lowercase hex digits are ever stored.
        core::str::from_utf8(&self.hex).unwrap_or_default()
    }

    /// Checks a received signature against this one.
    ///
    /// The received value must be exactly 32 hex digits; upper- or lowercase are both
    /// accepted. The comparison takes the same time wherever the first difference lies.
    ///
    /// # Errors
    /// [`SignatureError::WrongLength`] or [`SignatureError::NotHex`] for a malformed value,
    /// [`SignatureError::Mismatch`] for a well-formed one that does not match.
    pub fn verify(&self, received: &str) -> Result<(), SignatureError> {
        let received = received_digest(received)?;
        // Only lowercase hex digits are ever stored, so this always reads.
        let expected = hex::sixteen_bytes(&self.hex)
            .map(words)
            .ok_or(SignatureError::Mismatch)?;
        digests_match(expected, received)
    }
}

/// A received signature as the digest it spells, in words: exactly 32 hex digits, either case.
fn received_digest(received: &str) -> Result<[u32; 4], SignatureError> {
    let digits: &[u8; 32] =
        received
            .as_bytes()
            .try_into()
            .map_err(|_| SignatureError::WrongLength {
                len: received.len(),
            })?;
    hex::sixteen_bytes(digits)
        .map(words)
        .ok_or(SignatureError::NotHex)
}

/// A digest's bytes as MD5's four state words, the form [`Signer`] produces.
fn words(bytes: [u8; 16]) -> [u32; 4] {
    let mut words = [0; 4];
    for (word, four) in words.iter_mut().zip(bytes.as_chunks::<4>().0) {
        *word = u32::from_le_bytes(*four);
    }
    words
}

/// Compares two digests in constant time: the differences of their words gathered without
/// a branch, then one constant-time comparison instead of sixteen.
fn digests_match(expected: [u32; 4], received: [u32; 4]) -> Result<(), SignatureError> {
    let difference = expected
        .iter()
        .zip(received)
        .fold(0, |difference, (expected, received)| {
            difference | (expected ^ received)
        });
    if bool::from(difference.ct_eq(&0)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Signature) -> bool {
        self.hex.ct_eq(&other.hex).into()
    }
}

impl Eq for Signature {}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Signature").field(&self.as_str()).finish()
    }
}

/// The signed values of an order on `/api/pay` (native, jsapi, alipay, mini program) or on
/// the cashier, in the names of the protocol.
///
/// Most merchants never build this by hand: `#[derive(XorPayOrder)]` signs their own order
/// struct in the same order.
#[derive(Debug, Clone, Copy)]
pub struct PayFields<'a> {
    /// The product name shown to the payer.
    pub name: &'a str,
    /// The pay type: `native`, `jsapi` (also for the cashier and mini programs) or `alipay`.
    pub pay_type: PayType,
    /// The amount.
    pub price: Price,
    /// The merchant's own order number.
    pub order_id: &'a str,
    /// Where XorPay posts the payment notification.
    pub notify_url: &'a str,
}

/// The signed values of a barcode (付款码) payment.
#[derive(Debug, Clone, Copy)]
pub struct BarcodeFields<'a> {
    /// The product name.
    pub name: &'a str,
    /// `wechat_barcode` or `alipay_barcode`.
    pub pay_type: BarcodePayType,
    /// The amount.
    pub price: Price,
    /// The merchant's own order number.
    pub order_id: &'a str,
    /// Where XorPay posts the payment notification.
    pub notify_url: &'a str,
    /// The code scanned from the customer's phone.
    pub barcode: &'a str,
}

/// The signed values of a payment notification, exactly as received (decoded from the form,
/// never re-formatted: `pay_price` is signed as the string XorPay sent).
#[derive(Debug, Clone, Copy)]
pub struct NotifyFields<'a> {
    /// XorPay's order id.
    pub aoid: &'a str,
    /// The merchant's order number.
    pub order_id: &'a str,
    /// The paid amount as sent, e.g. `"50.00"`.
    pub pay_price: &'a str,
    /// The payment time as sent, e.g. `"2019-01-01 00:00:00"`.
    pub pay_time: &'a str,
}

/// Signs an order for `/api/pay/{aid}` or `/api/cashier/{aid}`:
/// `md5(name + pay_type + price + order_id + notify_url + secret)`.
///
/// ```
/// use xorpay::{sign, AppSecret, PayType, Price};
///
/// let secret = AppSecret::new("mock_secret")?;
/// let signature = sign::pay(
///     &sign::PayFields {
///         name: "内容订阅一年期",
///         pay_type: PayType::Native,
///         price: "50.00".parse()?,
///         order_id: "demo-3",
///         notify_url: "http://abc.com/xorpay_notify",
///     },
///     &secret,
/// );
/// assert_eq!(signature.as_str(), "097a19104039f6f5f20ad0082fad1c14");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pay(fields: &PayFields<'_>, secret: &AppSecret) -> Signature {
    let mut signer = Signer::new();
    signer
        .value(fields.name)
        .value(fields.pay_type.as_str())
        .price(fields.price)
        .value(fields.order_id)
        .value(fields.notify_url);
    signer.finish(secret)
}

/// Signs a barcode payment for `/api/barcode_pay/{aid}`:
/// `md5(name + pay_type + price + order_id + notify_url + barcode + secret)`.
pub fn barcode(fields: &BarcodeFields<'_>, secret: &AppSecret) -> Signature {
    let mut signer = Signer::new();
    signer
        .value(fields.name)
        .value(fields.pay_type.as_str())
        .price(fields.price)
        .value(fields.order_id)
        .value(fields.notify_url)
        .value(fields.barcode);
    signer.finish(secret)
}

/// Signs a query by merchant order number for `/api/query2/{aid}`: `md5(order_id + secret)`.
pub fn query2(order_id: &str, secret: &AppSecret) -> Signature {
    let mut signer = Signer::new();
    signer.value(order_id);
    signer.finish(secret)
}

/// Signs a refund for `/api/refund/{aoid}`: `md5(price + secret)`.
///
/// The order's `aoid` is not part of the formula (docs/protocol.md §8 item 10): a refund signature
/// is valid for any order with the same amount, so never hand one to a browser.
pub fn refund(price: Price, secret: &AppSecret) -> Signature {
    let mut signer = Signer::new();
    signer.price(price);
    signer.finish(secret)
}

/// Computes the signature of a payment notification:
/// `md5(aoid + order_id + pay_price + pay_time + secret)`.
///
/// To verify a notification, prefer [`crate::notify::Notification::verify`], which also
/// parses the form strictly and hands out a [`crate::VerifiedNotification`].
pub fn notify(fields: &NotifyFields<'_>, secret: &AppSecret) -> Signature {
    let signed = [
        fields.aoid,
        fields.order_id,
        fields.pay_price,
        fields.pay_time,
    ];
    Signature::from_digest(notify_digest(&signed, secret))
}

/// Checks `received` against the signature of a payment notification, as
/// [`Signature::verify`] does, without spelling the expected one in hex. `signed` is
/// `aoid + order_id + pay_price + pay_time` in pieces, in that order: four, or one when the
/// values already sit side by side.
///
/// # Errors
/// As [`Signature::verify`].
pub(crate) fn verify_notify(
    signed: &[&str],
    secret: &AppSecret,
    received: &str,
) -> Result<(), SignatureError> {
    let received = received_digest(received)?;
    digests_match(notify_digest(signed, secret), received)
}

/// The MD5 digest of a notification's signed values, given in pieces in formula order.
fn notify_digest(signed: &[&str], secret: &AppSecret) -> [u32; 4] {
    let mut signer = Signer::new();
    for piece in signed {
        signer.value(piece);
    }
    signer.digest(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> AppSecret {
        AppSecret::new("secret").unwrap()
    }

    // `md5("0.01secret")`, from docs/protocol.md §1.3 (computed outside this crate).
    const REFUND_VECTOR: &str = "4c70d5a61c87bd3b9709488f37779f05";

    #[test]
    fn verify_accepts_either_case() {
        let signature = refund(Price::MIN, &secret());
        assert_eq!(signature.as_str(), REFUND_VECTOR);
        assert_eq!(signature.verify(REFUND_VECTOR), Ok(()));
        assert_eq!(signature.verify(&REFUND_VECTOR.to_uppercase()), Ok(()));
    }

    #[test]
    fn verify_refuses_malformed_values_before_comparing() {
        let signature = refund(Price::MIN, &secret());
        assert_eq!(
            signature.verify(&REFUND_VECTOR[..31]),
            Err(SignatureError::WrongLength { len: 31 })
        );
        assert_eq!(
            signature.verify(&format!("{REFUND_VECTOR}0")),
            Err(SignatureError::WrongLength { len: 33 })
        );
        assert_eq!(
            signature.verify(&format!("{}g", &REFUND_VECTOR[..31])),
            Err(SignatureError::NotHex)
        );
        assert_eq!(
            signature.verify(&format!(" {}", &REFUND_VECTOR[..31])),
            Err(SignatureError::NotHex)
        );
        // 32 bytes but 31 characters: a multi-byte character is never hex.
        assert_eq!(
            signature.verify(&format!("é{}", &REFUND_VECTOR[..30])),
            Err(SignatureError::NotHex)
        );
        assert_eq!(
            signature.verify(""),
            Err(SignatureError::WrongLength { len: 0 })
        );
    }

    #[test]
    fn verify_reports_a_mismatch_for_a_wellformed_wrong_value() {
        let signature = refund(Price::MIN, &secret());
        let mut wrong = REFUND_VECTOR.as_bytes().to_vec();
        wrong[31] = b'0';
        let wrong = String::from_utf8(wrong).unwrap();
        assert_eq!(signature.verify(&wrong), Err(SignatureError::Mismatch));
    }

    #[test]
    fn display_write_feeds_the_same_bytes_as_a_str() {
        use core::fmt::Write;
        let mut by_display = Signer::new();
        write!(by_display, "{}", 42).unwrap();
        let mut by_str = Signer::new();
        by_str.value("42");
        assert_eq!(by_display.finish(&secret()), by_str.finish(&secret()));
    }
}
