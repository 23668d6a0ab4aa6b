//! What every visitor checks about the values it sees, so that signing, sending and reading
//! an order refuse the same things: an empty signed value, a failing `Display`, an order
//! number too long or with a control character, a `notify_url` that is not an absolute
//! http(s) URL, an `expire` of zero.

use core::fmt;

use super::error::{MAX_ORDER_ID, RequestError};
use super::visit::ValueSource;
use crate::form::ValueWriter;
use crate::sign::Signer;

/// What every visitor checks about the values it sees, so that signing and sending refuse
/// the same things.
pub(super) struct Checks<'a> {
    pub(super) client_notify_url: Option<&'a str>,
    error: Option<RequestError>,
}

impl<'a> Checks<'a> {
    pub(super) fn new(client_notify_url: Option<&'a str>) -> Checks<'a> {
        Checks {
            client_notify_url,
            error: None,
        }
    }

    pub(super) fn fail(&mut self, error: RequestError) {
        self.error.get_or_insert(error);
    }

    /// Judges one signed value once it has been written in full.
    #[inline(always)]
    pub(super) fn signed(
        &mut self,
        key: &'static str,
        source: ValueSource,
        value: &ValueCheck,
        formatted: fmt::Result,
    ) {
        if formatted.is_err() {
            self.fail(RequestError::Format { field: key });
        } else if value.len == 0 {
            self.fail(RequestError::EmptyValue { field: key });
        } else if key == "order_id" && value.len > MAX_ORDER_ID {
            self.fail(RequestError::InvalidValue {
                field: key,
                reason: "it is longer than 64 bytes (xorpay::request::MAX_ORDER_ID)",
            });
        } else if key == "order_id" && value.control {
            self.fail(RequestError::InvalidValue {
                field: key,
                reason: "it holds a control character (a newline, a tab, …)",
            });
        } else if is_checked_url(key, source) && !value.is_web_url() {
            self.fail(RequestError::InvalidValue {
                field: key,
                reason: "it must be an absolute http:// or https:// URL without spaces",
            });
        }
    }

    pub(super) fn unsigned(&mut self, key: &'static str, formatted: fmt::Result) {
        if formatted.is_err() {
            self.fail(RequestError::Format { field: key });
        }
    }

    pub(super) fn expire(&mut self, seconds: u64) {
        if seconds == 0 {
            self.fail(RequestError::InvalidValue {
                field: "expire",
                reason: "an order must live at least one second",
            });
        }
    }

    #[inline]
    pub(super) fn result(self) -> Result<(), RequestError> {
        self.error.map_or(Ok(()), Err)
    }
}

/// Whether a value is a `notify_url` to check here: a constant one was checked when the
/// derive expanded.
#[inline(always)]
fn is_checked_url(key: &'static str, source: ValueSource) -> bool {
    key == "notify_url" && source != ValueSource::Attribute
}

/// An ASCII control character (whitespace but the space is among them).
const CONTROL: u8 = 1;
/// The space.
const SPACE: u8 = 2;
/// 0xC2, the first byte of U+0080 to U+00BF in UTF-8 (the C1 controls among them).
const C2: u8 = 4;

/// What each byte is, for [`ValueCheck::feed`].
const BYTE_KINDS: [u8; 256] = {
    let mut kinds = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        kinds[byte] = if byte < 0x20 || byte == 0x7f {
            CONTROL
        } else if byte == 0x20 {
            SPACE
        } else if byte == 0xc2 {
            C2
        } else {
            0
        };
        byte += 1;
    }
    kinds
};

/// The [`BYTE_KINDS`] found in `bytes`: one table lookup per byte (signing is a hot path).
#[inline(always)]
fn kinds(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0, |found, &byte| found | BYTE_KINDS[usize::from(byte)])
}

/// Whether `bytes`, whose [`kinds`] are `found`, hold a control character. The only ones
/// beyond ASCII (U+0080 to U+009F) are 0xC2 0x80..=0x9F in UTF-8 (a piece of a formatted
/// value is whole characters).
#[inline(always)]
fn is_control(found: u8, bytes: &[u8]) -> bool {
    found & CONTROL != 0
        || (found & C2 != 0
            && bytes
                .windows(2)
                .any(|pair| pair[0] == 0xc2 && (0x80..=0x9f).contains(&pair[1])))
}

/// Watches the text of one value as it is written, without keeping it: its length, its first
/// eight bytes lowercased (enough to see `https://`), whether it holds whitespace, and whether
/// it holds a control character.
#[derive(Default)]
pub(super) struct ValueCheck {
    len: usize,
    head: [u8; 8],
    whitespace: bool,
    control: bool,
}

impl ValueCheck {
    /// The check of a whole value given at once. Only a URL and the order number need their
    /// bytes looked at.
    #[inline(always)]
    pub(super) fn of_str(key: &'static str, source: ValueSource, value: &str) -> ValueCheck {
        if is_checked_url(key, source) {
            let mut check = ValueCheck::default();
            check.feed(value);
            check
        } else if key == "order_id" {
            // Its length and control characters: not its head, which only a URL needs.
            let found = kinds(value.as_bytes());
            ValueCheck {
                len: value.len(),
                control: is_control(found, value.as_bytes()),
                ..ValueCheck::default()
            }
        } else {
            ValueCheck {
                len: value.len(),
                ..ValueCheck::default()
            }
        }
    }

    /// Watches the next piece of the value: one table lookup per byte (signing is a hot
    /// path).
    pub(super) fn feed(&mut self, part: &str) {
        let bytes = part.as_bytes();
        if let Some(head) = self.head.get_mut(self.len..) {
            for (slot, byte) in head.iter_mut().zip(bytes) {
                *slot = byte.to_ascii_lowercase();
            }
        }
        self.len += bytes.len();
        let found = kinds(bytes);
        self.whitespace |= found & (CONTROL | SPACE) != 0;
        self.control |= is_control(found, bytes);
    }

    fn is_web_url(&self) -> bool {
        let https = self.head.starts_with(b"https://") && self.len > 8;
        let http = self.head.starts_with(b"http://") && self.len > 7;
        (https || http) && !self.whitespace
    }
}

/// Formats a value once, handing each piece to the checks, the signer (for signed values)
/// and the form body (when writing one).
pub(super) struct Tee<'a> {
    pub(super) check: ValueCheck,
    pub(super) signer: Option<&'a mut Signer>,
    pub(super) body: Option<ValueWriter<'a>>,
}

impl fmt::Write for Tee<'_> {
    fn write_str(&mut self, part: &str) -> fmt::Result {
        self.check.feed(part);
        if let Some(signer) = self.signer.as_deref_mut() {
            signer.value(part);
        }
        if let Some(body) = self.body.as_mut() {
            body.write_str(part)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `feed` must find, the plain way: whitespace (or any ASCII control character)
    /// for a URL, a control character (`char::is_control`) for an order number.
    fn plain(text: &str) -> (bool, bool) {
        let whitespace = text
            .bytes()
            .any(|byte| byte.is_ascii_whitespace() || byte.is_ascii_control());
        (whitespace, text.chars().any(char::is_control))
    }

    #[test]
    fn the_byte_table_finds_what_the_plain_checks_find() {
        let mut texts: Vec<String> = (0..=0x2ff_u32)
            .filter_map(char::from_u32)
            .map(|c| format!("order-{c}-1"))
            .collect();
        texts.extend(
            [
                "", " ", "a b", "\u{85}", "\u{a0}", "é\u{9f}", "\u{7f}", "中文", "\u{2028}", "😀",
            ]
            .map(str::to_owned),
        );
        for text in &texts {
            let mut check = ValueCheck::default();
            // Fed whole, and in pieces of whole characters.
            check.feed(text);
            let mut pieces = ValueCheck::default();
            for c in text.chars() {
                pieces.feed(c.encode_utf8(&mut [0; 4]));
            }
            for check in [check, pieces] {
                assert_eq!((check.whitespace, check.control), plain(text), "{text:?}");
                assert_eq!(check.len, text.len());
            }
            // An order number given whole is looked at without its head.
            let order_id = ValueCheck::of_str("order_id", ValueSource::Field("id"), text);
            assert_eq!(order_id.control, plain(text).1, "{text:?}");
            assert_eq!(order_id.len, text.len());
        }
    }
}
