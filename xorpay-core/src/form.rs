//! `application/x-www-form-urlencoded`: [`FormBody`] writes request bodies, and the strict
//! [`decode`] reads untrusted ones (notifications).
//!
//! Writing follows the WHATWG form-urlencoded serializer: ASCII letters, digits and `*-._`
//! stay, a space becomes `+`, every other byte of the UTF-8 text becomes `%XX`. XorPay signs
//! the decoded values, so what matters is that decoding gives back exactly the signed text.
//!
//! For reading, unlike a general-purpose decoder, this one refuses what a forger could exploit or what
//! would make "the value that was signed" ambiguous: malformed `%` escapes are errors (not
//! kept literally), invalid UTF-8 is an error (not replaced), a pair without `=` is an error,
//! and a key that appears twice is an error (so no "first wins" / "last wins" confusion
//! between the verifier and the handler). Percent-decoding happens exactly once.
//!
//! Empty segments (`a=1&&b=2`, a trailing `&`) are skipped, as every form decoder does.

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A `%` not followed by two hex digits.
    #[error("malformed percent-escape at byte {offset}")]
    MalformedEscape {
        /// Byte offset of the `%` in the body.
        offset: usize,
    },
    /// A key or value is not valid UTF-8 after decoding.
    #[error("a form key or value is not valid UTF-8")]
    InvalidUtf8,
    /// A segment without `=`.
    #[error("a form segment at byte {offset} has no '='")]
    MissingEquals {
        /// Byte offset of the segment.
        offset: usize,
    },
    /// The same key appears more than once.
    #[error("form key {key:?} appears more than once")]
    DuplicateKey {
        /// The repeated key (at most 64 bytes of it).
        key: String,
    },
}

/// A form body under construction: `key=value` pairs joined by `&`, percent-encoded.
///
/// ```
/// use xorpay::form::FormBody;
/// let mut body = FormBody::new();
/// body.pair("name", "测试 & <b>").pair("price", "0.01");
/// assert_eq!(body.as_str(), "name=%E6%B5%8B%E8%AF%95+%26+%3Cb%3E&price=0.01");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormBody {
    encoded: String,
}

impl FormBody {
    /// An empty body.
    pub fn new() -> FormBody {
        FormBody::default()
    }

    /// Appends one `key=value` pair, encoding both.
    pub fn pair(&mut self, key: &str, value: &str) -> &mut FormBody {
        if !self.encoded.is_empty() {
            self.encoded.push('&');
        }
        encode_into(&mut self.encoded, key);
        self.encoded.push('=');
        encode_into(&mut self.encoded, value);
        self
    }

    /// Starts a `key=` pair and returns a writer that encodes the value as it is written,
    /// so a `Display` value can be added without formatting it into a `String` first.
    pub fn value_writer(&mut self, key: &str) -> ValueWriter<'_> {
        if !self.encoded.is_empty() {
            self.encoded.push('&');
        }
        encode_into(&mut self.encoded, key);
        self.encoded.push('=');
        ValueWriter {
            encoded: &mut self.encoded,
        }
    }

    /// The encoded body so far.
    pub fn as_str(&self) -> &str {
        &self.encoded
    }

    /// The encoded body.
    pub fn into_string(self) -> String {
        self.encoded
    }
}

/// Encodes a value into a [`FormBody`] as it is written; see [`FormBody::value_writer`].
#[derive(Debug)]
pub struct ValueWriter<'a> {
    encoded: &'a mut String,
}

impl core::fmt::Write for ValueWriter<'_> {
    fn write_str(&mut self, part: &str) -> core::fmt::Result {
        encode_into(self.encoded, part);
        Ok(())
    }
}

/// Percent-encodes `text` onto `out` as a form component.
fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in text.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            }
        }
    }
}

/// Decodes every `key=value` pair of an untrusted body, in body order, under the rules in the
/// [module documentation](self).
///
/// ```
/// use xorpay::form::{decode, FormError};
///
/// let pairs = decode(b"order_id=%E8%AE%A2%E5%8D%95-1&more=a+b")?;
/// assert_eq!(pairs[0], ("order_id".to_owned(), "订单-1".to_owned()));
/// assert_eq!(pairs[1], ("more".to_owned(), "a b".to_owned()));
/// assert!(matches!(decode(b"sign=1&sign=2"), Err(FormError::DuplicateKey { .. })));
/// # Ok::<(), FormError>(())
/// ```
///
/// # Errors
/// A [`FormError`] for a malformed escape, invalid UTF-8, a segment without `=` or a repeated
/// key.
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut offset = 0;
    for segment in body.split(|&b| b == b'&') {
        let start = offset;
        offset += segment.len() + 1;
        if segment.is_empty() {
            continue;
        }
        let Some(eq) = segment.iter().position(|&b| b == b'=') else {
            return Err(FormError::MissingEquals { offset: start });
        };
        let key = decode_component(&segment[..eq], start)?;
        let value = decode_component(&segment[eq + 1..], start + eq + 1)?;
        if pairs.iter().any(|(seen, _)| *seen == key) {
            return Err(FormError::DuplicateKey {
                key: key.chars().take(64).collect(),
            });
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Decodes `body` pair by pair onto the end of `out`, with no other allocation, under the
/// rules of [`decode`] but for repeated keys, which are `keep`'s to notice. `keep` sees each
/// decoded key; for a key it answers `Some` for, the decoded value stays in `out` and `kept`
/// receives the answer and the value's range in `out`; any other pair's bytes are dropped
/// again (still checked).
pub(crate) fn decode_kept<K>(
    body: &[u8],
    out: &mut Vec<u8>,
    keep: impl Fn(&[u8]) -> Option<K>,
    mut kept: impl FnMut(K, core::ops::Range<usize>) -> Result<(), FormError>,
) -> Result<(), FormError> {
    let mut start = 0;
    while start <= body.len() {
        let end = body[start..]
            .iter()
            .position(|&b| b == b'&')
            .map_or(body.len(), |at| start + at);
        let segment = &body[start..end];
        let segment_start = start;
        start = end + 1;
        if segment.is_empty() {
            continue;
        }
        let start = segment_start;
        let Some(eq) = segment.iter().position(|&b| b == b'=') else {
            return Err(FormError::MissingEquals { offset: start });
        };
        let mark = out.len();
        let raw_key = &segment[..eq];
        // Keys are plain in practice: read in place unless escaped.
        let answer = if raw_key.iter().any(|&b| b == b'%' || b == b'+') {
            unescape_into(raw_key, start, out)?;
            let answer = keep(&out[mark..]);
            if answer.is_none() {
                check_utf8(&out[mark..])?;
            }
            out.truncate(mark);
            answer
        } else {
            let answer = keep(raw_key);
            if answer.is_none() {
                check_utf8(raw_key)?;
            }
            answer
        };
        unescape_into(&segment[eq + 1..], start + eq + 1, out)?;
        // Each value on its own: two invalid halves side by side can make valid UTF-8.
        check_utf8(&out[mark..])?;
        match answer {
            Some(answer) => kept(answer, mark..out.len())?,
            None => out.truncate(mark),
        }
    }
    Ok(())
}

fn check_utf8(bytes: &[u8]) -> Result<(), FormError> {
    core::str::from_utf8(bytes)
        .map(drop)
        .map_err(|_| FormError::InvalidUtf8)
}

/// Decodes `+` as space and `%XX` as a byte, once; `base` is the component's offset in the body.
fn decode_component(raw: &[u8], base: usize) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(raw.len());
    decode_component_into(raw, base, &mut out)?;
    String::from_utf8(out).map_err(|_| FormError::InvalidUtf8)
}

/// [`decode_component`] onto the end of `out`; what it appends is checked to be UTF-8.
fn decode_component_into(raw: &[u8], base: usize, out: &mut Vec<u8>) -> Result<(), FormError> {
    let mark = out.len();
    unescape_into(raw, base, out)?;
    check_utf8(&out[mark..])
}

/// Percent-decodes `raw` onto the end of `out` (not checked to be UTF-8): runs without `%` or
/// `+` are copied whole, each escape read through a table.
fn unescape_into(raw: &[u8], base: usize, out: &mut Vec<u8>) -> Result<(), FormError> {
    out.reserve(raw.len());
    let mut rest = raw;
    while let Some(special) = rest.iter().position(|&b| b == b'%' || b == b'+') {
        out.extend_from_slice(&rest[..special]);
        if rest[special] == b'+' {
            out.push(b' ');
            rest = &rest[special + 1..];
            continue;
        }
        let digit = |at: usize| {
            rest.get(special + at)
                .map_or(NOT_HEX, |&digit| HEX_VALUES[usize::from(digit)])
        };
        let (high, low) = (digit(1), digit(2));
        if (high | low) & NOT_HEX != 0 {
            let offset = base + (raw.len() - rest.len()) + special;
            return Err(FormError::MalformedEscape { offset });
        }
        out.push((high << 4) | low);
        rest = &rest[special + 3..];
    }
    out.extend_from_slice(rest);
    Ok(())
}

/// Not a hex digit, in [`HEX_VALUES`] (a bit no digit's value has).
pub(crate) const NOT_HEX: u8 = 0x10;

/// Each byte's value as a hex digit, or [`NOT_HEX`].
pub(crate) const HEX_VALUES: [u8; 256] = {
    let mut values = [NOT_HEX; 256];
    let mut digit = 0;
    while digit < 10 {
        values[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        values[b'a' as usize + letter] = 10 + letter as u8;
        values[b'A' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    values
};

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &str) -> Result<Vec<(String, String)>, FormError> {
        decode(body.as_bytes())
    }

    #[test]
    fn encoding_then_decoding_gives_back_the_text() {
        let values = ["", "a b+c", "100%", "&=?#/", "会员 VIP 月卡 🎉", "x\u{0}y"];
        let mut body = FormBody::new();
        for (i, value) in values.iter().enumerate() {
            body.pair(&format!("k{i}"), value);
        }
        let decoded = decode(body.as_str().as_bytes()).unwrap();
        for ((_, got), want) in decoded.iter().zip(values) {
            assert_eq!(got, want);
        }
        assert_eq!(decoded.len(), values.len());
    }

    #[test]
    fn decodes_plus_and_escapes_exactly_once() {
        assert_eq!(
            pairs("name=a+b%20c&x=%2541&zh=%E6%B5%8B").unwrap(),
            [
                ("name".into(), "a b c".into()),
                // `%2541` is `%41` after one decoding, and must stay so.
                ("x".into(), "%41".into()),
                ("zh".into(), "测".into()),
            ]
        );
    }

    #[test]
    fn skips_empty_segments_and_keeps_empty_values() {
        assert_eq!(
            pairs("&a=1&&more=&").unwrap(),
            [("a".into(), "1".into()), ("more".into(), String::new())]
        );
    }

    #[test]
    fn refuses_ambiguous_input() {
        assert_eq!(
            pairs("a=1&a=2"),
            Err(FormError::DuplicateKey { key: "a".into() })
        );
        // Different spellings of one key are still one key.
        assert_eq!(
            pairs("sign=1&%73ign=2"),
            Err(FormError::DuplicateKey { key: "sign".into() })
        );
        assert_eq!(
            pairs("a=1%2"),
            Err(FormError::MalformedEscape { offset: 3 })
        );
        assert_eq!(
            pairs("a=%zz"),
            Err(FormError::MalformedEscape { offset: 2 })
        );
        assert_eq!(pairs("a=%FF"), Err(FormError::InvalidUtf8));
        assert_eq!(
            pairs("a=1&novalue"),
            Err(FormError::MissingEquals { offset: 4 })
        );
    }
}
