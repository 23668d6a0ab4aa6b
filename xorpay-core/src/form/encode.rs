//! Writing form bodies: WHATWG's form-urlencoded serializer, which XorPay reads.

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
