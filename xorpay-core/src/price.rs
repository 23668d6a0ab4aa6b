//! Money: [`Price`], an exact amount of Chinese yuan held as integer fen (分, 0.01 yuan).
//!
//! XorPay signs and compares the *string* a merchant sends as `price` (docs/protocol.md §6.1), so
//! the one thing that matters is that the string which is signed is byte-for-byte the string
//! which is sent. `Price` has exactly one wire form, with two decimals (`"50.00"`), produced
//! without allocation by [`Price::to_wire`]; its `Display` and its serde form are that same
//! string.
//!
//! This module refuses floats in every form: there is no conversion from or to `f32`/`f64`,
//! and the parser rejects exponents. Amounts are never zero: the smallest payment, and the
//! smallest refund, is 0.01.

use core::fmt;
use core::num::NonZeroU64;
use core::str::FromStr;

/// An exact, positive amount of money in yuan, stored as integer fen (1 yuan = 100 fen).
///
/// The smallest price is 0.01 ([`Price::MIN`]); a zero or negative amount cannot be built.
/// Parsing is strict (see [`PriceError`] for every rejection; leading zeros such as `"007.10"`
/// are accepted, as they do not change the amount) and the canonical wire form always has two
/// decimals.
///
/// ```
/// use xorpay::Price;
///
/// let price: Price = "50".parse()?;
/// assert_eq!(price.fen(), 5000);
/// assert_eq!(price.to_string(), "50.00");
/// assert_eq!("0.5".parse::<Price>()?.to_wire().as_str(), "0.50");
/// assert!("1e3".parse::<Price>().is_err());
/// # Ok::<(), xorpay::PriceError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(NonZeroU64);

/// Why a string or an amount is not a valid [`Price`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// The input was empty.
    #[error("price is empty")]
    Empty,
    /// The input starts or ends with whitespace. Trim it deliberately before parsing: a price
    /// read from a file with a stray newline is a classic cause of `sign_error`.
    #[error("price has leading or trailing whitespace")]
    Whitespace,
    /// The input starts with `-`.
    #[error("price is negative")]
    Negative,
    /// The input starts with `+`; the wire form never carries a sign.
    #[error("price has a sign (`+`); write the bare amount")]
    Sign,
    /// The input uses scientific notation (`1e3`): digits, points and an `e`, nothing else.
    #[error("price uses an exponent; write the amount in plain decimal")]
    Exponent,
    /// More than two digits after the decimal point: fen is the smallest unit.
    #[error("price has {decimals} decimals; at most 2 (fen) are allowed")]
    TooManyDecimals {
        /// How many decimal digits the input had.
        decimals: usize,
    },
    /// No digits before the point (`.5`).
    #[error("price has no digits before the decimal point")]
    MissingWholeDigits,
    /// No digits after the point (`5.`).
    #[error("price has no digits after the decimal point")]
    MissingFractionDigits,
    /// A character that is not an ASCII digit or a single decimal point.
    #[error("price has an invalid character {character:?} at byte {index}")]
    InvalidCharacter {
        /// The offending character.
        character: char,
        /// Its byte offset in the input.
        index: usize,
    },
    /// The amount does not fit in a `u64` number of fen, or arithmetic overflowed.
    #[error("price is too large")]
    Overflow,
    /// The amount is zero; the smallest payment or refund is 0.01.
    #[error("price is zero; the smallest amount is 0.01")]
    Zero,
}

/// The longest wire form: `u64::MAX` fen is 184467440737095516.15, 21 bytes.
pub(crate) const WIRE_CAPACITY: usize = 24;

/// The canonical wire form of a [`Price`] (`"50.00"`), formatted on the stack.
///
/// This is what [`crate::sign`] feeds to MD5 and what a request body carries; obtain it
/// with [`Price::to_wire`].
#[derive(Clone, Copy)]
pub struct WirePrice {
    buf: [u8; WIRE_CAPACITY],
    start: u8,
}

impl WirePrice {
    /// The wire form as text, e.g. `"50.00"`.
    pub fn as_str(&self) -> &str {
        let bytes = &self.buf[usize::from(self.start)..];
        // Only ASCII digits and '.' are ever written into `buf`.
        core::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl core::ops::Deref for WirePrice {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for WirePrice {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for WirePrice {
    fn eq(&self, other: &WirePrice) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for WirePrice {}

impl core::hash::Hash for WirePrice {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for WirePrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for WirePrice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Price {
    /// The smallest amount, 0.01 yuan (one fen).
    pub const MIN: Price = Price(NonZeroU64::MIN);

    /// The largest amount, `u64::MAX` fen.
    pub const MAX: Price = Price(NonZeroU64::MAX);

    /// A price of `fen` fen (`from_fen(5000)` is 50.00).
    ///
    /// # Errors
    /// [`PriceError::Zero`] when `fen` is 0.
    pub const fn from_fen(fen: u64) -> Result<Price, PriceError> {
        match NonZeroU64::new(fen) {
            Some(fen) => Ok(Price(fen)),
            None => Err(PriceError::Zero),
        }
    }

    /// A price of whole yuan (`from_yuan(50)` is 50.00).
    ///
    /// # Errors
    /// [`PriceError::Zero`] for 0, [`PriceError::Overflow`] when the fen count exceeds `u64`.
    pub const fn from_yuan(yuan: u64) -> Result<Price, PriceError> {
        match yuan.checked_mul(100) {
            Some(fen) => Price::from_fen(fen),
            None => Err(PriceError::Overflow),
        }
    }

    /// The amount in fen.
    pub const fn fen(self) -> u64 {
        self.0.get()
    }

    /// The canonical wire form, two decimals, formatted on the stack.
    pub fn to_wire(self) -> WirePrice {
        let mut buf = [0u8; WIRE_CAPACITY];
        let start = self.write_wire(&mut buf);
        WirePrice {
            buf,
            // `start` is below WIRE_CAPACITY (24), so it fits in a u8.
            start: start as u8,
        }
    }

    /// Writes the wire form at the end of `buf` and returns where it starts. Signing calls
    /// this directly, so the hot path never re-validates the ASCII as UTF-8.
    pub(crate) fn write_wire(self, buf: &mut [u8; WIRE_CAPACITY]) -> usize {
        // Two digits at a time, from a table: the common case is a handful of digits.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let pair = |n: u64| -> [u8; 2] {
            // `n` is below 100, so the index is at most 198.
            let i = (n as usize) * 2;
            [PAIRS[i], PAIRS[i + 1]]
        };
        let fen = self.fen();
        let cents = pair(fen % 100);
        let mut at = WIRE_CAPACITY - 3;
        buf[at..].copy_from_slice(&[b'.', cents[0], cents[1]]);
        let mut yuan = fen / 100;
        while yuan >= 100 {
            at -= 2;
            buf[at..at + 2].copy_from_slice(&pair(yuan % 100));
            yuan /= 100;
        }
        if yuan >= 10 {
            at -= 2;
            buf[at..at + 2].copy_from_slice(&pair(yuan));
        } else {
            at -= 1;
            // `yuan` is below 10 here.
            buf[at] = b'0' + yuan as u8;
        }
        at
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Price) -> Option<Price> {
        match self.0.checked_add(other.0.get()) {
            Some(sum) => Some(Price(sum)),
            None => None,
        }
    }

    /// `self - other`, or `None` when the result would not be a price (zero or negative).
    ///
    /// ```
    /// # use xorpay::Price;
    /// let paid = Price::from_fen(5000)?;
    /// let refunded = Price::from_fen(1250)?;
    /// assert_eq!(paid.checked_sub(refunded), Some(Price::from_fen(3750)?));
    /// assert_eq!(paid.checked_sub(paid), None);
    /// # Ok::<(), xorpay::PriceError>(())
    /// ```
    pub const fn checked_sub(self, other: Price) -> Option<Price> {
        match self.fen().checked_sub(other.fen()) {
            Some(rest) => match NonZeroU64::new(rest) {
                Some(rest) => Some(Price(rest)),
                None => None,
            },
            None => None,
        }
    }

    /// `self × quantity` (a unit price times a count), or `None` on overflow or a zero count.
    pub const fn checked_mul(self, quantity: u64) -> Option<Price> {
        match self.fen().checked_mul(quantity) {
            Some(total) => match NonZeroU64::new(total) {
                Some(total) => Some(Price(total)),
                None => None,
            },
            None => None,
        }
    }
}

impl FromStr for Price {
    type Err = PriceError;

    /// Parses `"50.00"`, `"50"`, `"0.5"`. Rejects everything else with the matching
    /// [`PriceError`]: empty input, surrounding whitespace, signs, exponents, more than two
    /// decimals, missing digits around the point, any other character, overflow and zero.
    fn from_str(text: &str) -> Result<Price, PriceError> {
        // Every price XorPay sends is well formed: read those in one pass, and leave telling
        // what is wrong with the rest to the checks below.
        if let Some(fen) = well_formed_fen(text.as_bytes()) {
            return Price::from_fen(fen);
        }
        let Some(first) = text.chars().next() else {
            return Err(PriceError::Empty);
        };
        if first.is_whitespace() || text.chars().next_back().is_some_and(char::is_whitespace) {
            return Err(PriceError::Whitespace);
        }
        match first {
            '-' => return Err(PriceError::Negative),
            '+' => return Err(PriceError::Sign),
            _ => {}
        }
        // Scientific notation gets its own error, but only when it is what the text is.
        let is_exponent_form = text.contains(['e', 'E'])
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'));
        if is_exponent_form {
            return Err(PriceError::Exponent);
        }
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        if let Some((index, character)) = text
            .char_indices()
            .find(|&(index, c)| !(c.is_ascii_digit() || (c == '.' && index == whole.len())))
        {
            return Err(PriceError::InvalidCharacter { character, index });
        }
        if whole.is_empty() {
            return Err(PriceError::MissingWholeDigits);
        }
        let fraction = fraction.unwrap_or("00");
        match fraction.len() {
            0 => return Err(PriceError::MissingFractionDigits),
            1 | 2 => {}
            decimals => return Err(PriceError::TooManyDecimals { decimals }),
        }

        let mut fen: u64 = 0;
        for digit in whole.bytes().chain(fraction.bytes()) {
            fen = fen
                .checked_mul(10)
                .and_then(|fen| fen.checked_add(u64::from(digit - b'0')))
                .ok_or(PriceError::Overflow)?;
        }
        if fraction.len() == 1 {
            fen = fen.checked_mul(10).ok_or(PriceError::Overflow)?;
        }
        Price::from_fen(fen)
    }
}

/// The fen of `digits`, `digits.d` or `digits.dd` when it fits in a `u64`; `None` for
/// anything else, which [`Price::from_str`] then examines for its error.
fn well_formed_fen(text: &[u8]) -> Option<u64> {
    let (whole, fraction): (&[u8], &[u8]) = match text {
        [whole @ .., b'.', tenths] => (whole, core::slice::from_ref(tenths)),
        [whole @ .., b'.', tenths, hundredths] => (whole, &[*tenths, *hundredths][..]),
        _ => (text, b"00"),
    };
    if whole.is_empty() {
        return None;
    }
    let mut fen: u64 = 0;
    for &digit in whole.iter().chain(fraction) {
        if !digit.is_ascii_digit() {
            return None;
        }
        fen = fen.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
    }
    if fraction.len() == 1 {
        fen = fen.checked_mul(10)?;
    }
    Some(fen)
}

impl TryFrom<&str> for Price {
    type Error = PriceError;

    fn try_from(text: &str) -> Result<Price, PriceError> {
        text.parse()
    }
}

impl fmt::Display for Price {
    /// The wire form: `50.00`. Width, fill and alignment are honoured; a precision is
    /// ignored, because cutting digits off an amount would print a different amount.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wire = self.to_wire();
        let text = wire.as_str();
        let padding = f.width().unwrap_or(0).saturating_sub(text.len());
        let (before, after) = match f.align() {
            Some(fmt::Alignment::Left) => (0, padding),
            Some(fmt::Alignment::Center) => (padding / 2, padding - padding / 2),
            // Amounts line up on the right by default, like numbers.
            Some(fmt::Alignment::Right) | None => (padding, 0),
        };
        let fill = f.fill();
        for _ in 0..before {
            fmt::Write::write_char(f, fill)?;
        }
        f.write_str(text)?;
        for _ in 0..after {
            fmt::Write::write_char(f, fill)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Price({})", self.to_wire().as_str())
    }
}

impl serde::Serialize for Price {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.to_wire().as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Price {
    /// Accepts only a string (`"50.00"`): a JSON number would already be a float.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Price, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Price;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a price as a decimal string such as \"50.00\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Price, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// What the derive accepts in a `#[xorpay(price)]` field: a [`Price`], or a reference to one.
/// Nothing else implements it: a float or a plain integer (yuan? fen?) is refused at compile
/// time.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a price: use `xorpay::Price`",
    label = "the price must be a `xorpay::Price`",
    note = "`Price` holds integer fen and has exactly one wire form (\"50.00\"); parse it with `\"50.00\".parse::<Price>()` or build it with `Price::from_fen`"
)]
pub trait AsPrice {
    /// The price.
    fn price(&self) -> Price;
}

#[diagnostic::do_not_recommend]
impl AsPrice for Price {
    #[inline]
    fn price(&self) -> Price {
        *self
    }
}

#[diagnostic::do_not_recommend]
impl<P: AsPrice + ?Sized> AsPrice for &P {
    #[inline]
    fn price(&self) -> Price {
        (**self).price()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fen(text: &str) -> Result<u64, PriceError> {
        text.parse::<Price>().map(Price::fen)
    }

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(fen("50.00"), Ok(5000));
        assert_eq!(fen("50"), Ok(5000));
        assert_eq!(fen("0.5"), Ok(50));
        assert_eq!(fen("0.01"), Ok(1));
        assert_eq!(fen("19999.99"), Ok(1_999_999));
        assert_eq!(fen("007.10"), Ok(710));
    }

    #[test]
    fn rejects_each_malformed_input_with_its_own_error() {
        assert_eq!(fen(""), Err(PriceError::Empty));
        assert_eq!(fen(" 1.00"), Err(PriceError::Whitespace));
        assert_eq!(fen("1.00\n"), Err(PriceError::Whitespace));
        assert_eq!(fen("-1.00"), Err(PriceError::Negative));
        assert_eq!(fen("+1.00"), Err(PriceError::Sign));
        assert_eq!(fen("1e3"), Err(PriceError::Exponent));
        assert_eq!(fen("1.5E2"), Err(PriceError::Exponent));
        assert_eq!(
            fen("1.001"),
            Err(PriceError::TooManyDecimals { decimals: 3 })
        );
        assert_eq!(fen(".5"), Err(PriceError::MissingWholeDigits));
        assert_eq!(fen("5."), Err(PriceError::MissingFractionDigits));
        // Words that happen to contain an `e` are not exponents.
        assert!(matches!(
            fen("free"),
            Err(PriceError::InvalidCharacter { index: 0, .. })
        ));
        assert_eq!(
            fen("1.0.0"),
            Err(PriceError::InvalidCharacter {
                character: '.',
                index: 3
            })
        );
        assert_eq!(
            fen("1,00"),
            Err(PriceError::InvalidCharacter {
                character: ',',
                index: 1
            })
        );
        assert!(matches!(
            fen("５０"),
            Err(PriceError::InvalidCharacter { index: 0, .. })
        ));
        assert!(matches!(
            fen("NaN"),
            Err(PriceError::InvalidCharacter { .. })
        ));
        assert_eq!(fen("184467440737095516.16"), Err(PriceError::Overflow));
        assert_eq!(fen("99999999999999999999999"), Err(PriceError::Overflow));
        assert_eq!(fen("0"), Err(PriceError::Zero));
        assert_eq!(fen("0.00"), Err(PriceError::Zero));
    }

    #[test]
    fn largest_amount_round_trips() {
        assert_eq!(Price::MAX.to_string(), "184467440737095516.15");
        assert_eq!("184467440737095516.15".parse::<Price>(), Ok(Price::MAX));
    }

    #[test]
    fn wire_form_always_has_two_decimals() {
        let wire = |fen| Price::from_fen(fen).map(|p| p.to_wire().as_str().to_owned());
        assert_eq!(wire(1).as_deref(), Ok("0.01"));
        assert_eq!(wire(10).as_deref(), Ok("0.10"));
        assert_eq!(wire(100).as_deref(), Ok("1.00"));
        assert_eq!(wire(123_456).as_deref(), Ok("1234.56"));
    }

    #[test]
    fn checked_arithmetic_never_yields_zero_or_wraps() {
        let p = |fen| Price::from_fen(fen).unwrap();
        assert_eq!(p(100).checked_add(p(1)), Some(p(101)));
        assert_eq!(Price::MAX.checked_add(Price::MIN), None);
        assert_eq!(p(100).checked_sub(p(99)), Some(p(1)));
        assert_eq!(p(100).checked_sub(p(100)), None);
        assert_eq!(p(100).checked_sub(p(101)), None);
        assert_eq!(p(250).checked_mul(3), Some(p(750)));
        assert_eq!(p(250).checked_mul(0), None);
        assert_eq!(Price::MAX.checked_mul(2), None);
        assert_eq!(Price::from_yuan(u64::MAX), Err(PriceError::Overflow));
    }

    #[test]
    fn serde_uses_the_wire_string_and_refuses_numbers() {
        let price = Price::from_fen(1230).unwrap();
        assert_eq!(serde_json::to_string(&price).unwrap(), r#""12.30""#);
        assert_eq!(serde_json::from_str::<Price>(r#""12.3""#).unwrap(), price);
        assert!(serde_json::from_str::<Price>("12.3").is_err());
        assert!(serde_json::from_str::<Price>(r#""-1""#).is_err());
    }

    #[test]
    fn display_honours_padding_ignores_precision_and_debug_is_readable() {
        let price = Price::from_fen(5).unwrap();
        assert_eq!(format!("[{price:>6}]"), "[  0.05]");
        assert_eq!(format!("[{price:6}]"), "[  0.05]");
        assert_eq!(format!("[{price:*<6}]"), "[0.05**]");
        assert_eq!(format!("[{price:^7}]"), "[ 0.05  ]");
        let fifty = Price::from_fen(5000).unwrap();
        assert_eq!(format!("{fifty:.0}"), "50.00");
        assert_eq!(format!("{fifty:>8.1}"), "   50.00");
        assert_eq!(format!("{price:?}"), "Price(0.05)");
    }
}
