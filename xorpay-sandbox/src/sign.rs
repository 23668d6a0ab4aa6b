//! Signatures as XorPay computes them (docs/protocol.md §1.3), written again from the protocol text.
//!
//! The sandbox is a second, independent implementation of XorPay: it deliberately does not use
//! `xorpay_core::sign`, so that a bug shared by the client's signer and the server's checker
//! cannot hide. It hashes the **raw strings it received** (XorPay signs whatever was sent: a
//! price of `1` is signed as `1`, not `1.00`), concatenated with no separator, the app secret
//! last, as UTF-8.
//!
//! This module does not decide which fields are signed in which order (the routes do, citing
//! the formula table) and never logs or returns the secret.

use md5::{Digest, Md5};

/// The lowercase hex MD5 of `parts` concatenated, then `secret`.
pub(crate) fn sign(parts: &[&str], secret: &str) -> String {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hasher.update(secret.as_bytes());
    to_hex(&hasher.finalize())
}

/// The lowercase hex MD5 of `text`.
pub(crate) fn md5_hex(text: &str) -> String {
    to_hex(&Md5::digest(text.as_bytes()))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Whether a received `sign` matches the expected lowercase digest.
///
/// XorPay's own browser demos and both .NET SDKs send **uppercase** hex, so the live server
/// almost certainly compares case-insensitively (docs/protocol.md §1.3, §8 item 4); that is the
/// default. `strict_lowercase` refuses anything but the canonical lowercase form, for merchants
/// who want to be sure they would also pass a stricter server.
pub(crate) fn matches(received: &str, expected_lowercase: &str, strict_lowercase: bool) -> bool {
    if strict_lowercase {
        received == expected_lowercase
    } else {
        received.eq_ignore_ascii_case(expected_lowercase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_vectors() {
        // docs/protocol.md §1.3: computed outside the project.
        assert_eq!(
            sign(
                &[
                    "内容订阅一年期",
                    "native",
                    "50.00",
                    "demo-3",
                    "http://abc.com/xorpay_notify"
                ],
                "mock_secret"
            ),
            "097a19104039f6f5f20ad0082fad1c14"
        );
        assert_eq!(
            sign(&["0.01"], "secret"),
            "4c70d5a61c87bd3b9709488f37779f05"
        );
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn case_rules() {
        let expected = "4c70d5a61c87bd3b9709488f37779f05";
        assert!(matches(&expected.to_uppercase(), expected, false));
        assert!(!matches(&expected.to_uppercase(), expected, true));
        assert!(matches(expected, expected, true));
        assert!(!matches("", expected, false));
        assert!(!matches(&expected[1..], expected, false));
    }
}
