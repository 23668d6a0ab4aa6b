//! Identifiers in XorPay's and the channels' shapes (docs/protocol.md §1.1, §3.2–§3.4, §4.3,
//! §6.5). The shapes of openids and of the channels' transaction numbers are the sandbox's own
//! (the protocol documents none): they only have to look plausible.
//!
//! Randomness comes from UUID v4 (the operating system's generator); these values only have to
//! be unique and look right, not be secret. This module owns the shapes, nothing else.

use uuid::Uuid;

const ALPHANUMERIC: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LOWER_ALPHANUMERIC: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8; 10] = b"0123456789";
/// WeChat openids use the URL-safe base64 alphabet.
const OPENID_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `len` random characters of `alphabet` (a slight modulo bias does not matter here).
fn random_chars(alphabet: &[u8], len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in Uuid::new_v4().into_bytes() {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(byte) % alphabet.len()]));
        }
    }
    out
}

/// An `aoid`: a UUID4 without dashes, as every real example (docs/protocol.md §1.1).
pub(crate) fn aoid() -> String {
    Uuid::new_v4().simple().to_string()
}

/// A 32-character `nonceStr`.
pub(crate) fn nonce() -> String {
    Uuid::new_v4().simple().to_string()
}

/// The native QR text: `weixin://wxpay/bizpayurl?pr=` and 7 alphanumerics (§3.2).
pub(crate) fn native_qr() -> String {
    format!(
        "weixin://wxpay/bizpayurl?pr={}",
        random_chars(ALPHANUMERIC, 7)
    )
}

/// The Alipay QR text: `https://qr.alipay.com/bax` and 21 lowercase alphanumerics, as in the
/// doc's example `baxbe6067atdzqfdxjcq20ff` (§3.4).
pub(crate) fn alipay_qr() -> String {
    format!(
        "https://qr.alipay.com/bax{}",
        random_chars(LOWER_ALPHANUMERIC, 21)
    )
}

/// A WeChat-shaped openid: `o` and 27 URL-safe base64 characters (28 in all).
pub(crate) fn openid() -> String {
    format!("o{}", random_chars(OPENID_ALPHABET, 27))
}

/// A WeChat transaction id: `4200` and 24 digits (28 in all).
pub(crate) fn wechat_transaction() -> String {
    format!("4200{}", random_chars(DIGITS, 24))
}

/// An Alipay trade number: the date (`YYYYMMDD`) and 20 digits.
pub(crate) fn alipay_transaction(date: &str) -> String {
    format!("{date}{}", random_chars(DIGITS, 20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let aoid = aoid();
        assert_eq!(aoid.len(), 32);
        assert!(
            aoid.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let qr = native_qr();
        let code = qr.strip_prefix("weixin://wxpay/bizpayurl?pr=").unwrap();
        assert_eq!(code.len(), 7);
        assert!(code.bytes().all(|b| b.is_ascii_alphanumeric()));
        let alipay = alipay_qr();
        assert_eq!(alipay.len(), "https://qr.alipay.com/bax".len() + 21);
        assert_eq!(openid().len(), 28);
        assert_eq!(wechat_transaction().len(), 28);
        assert_ne!(openid(), openid());
    }
}
