//! Hex digits both ways, through tables built at compile time: signatures are spelled in
//! lowercase hex, and received signatures and `%XX` escapes are read in either case.

/// The two lowercase hex digits of every byte.
pub(crate) const HEX_PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [DIGITS[byte >> 4], DIGITS[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// Not a hex digit, in [`HEX_VALUES`] (a bit no digit's value has).
const NOT_HEX: u8 = 0x10;

/// Each byte's value as a hex digit, or [`NOT_HEX`].
const HEX_VALUES: [u8; 256] = {
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

/// The byte two hex digits (either case) spell, or `None`.
#[inline(always)]
pub(crate) fn byte(high: u8, low: u8) -> Option<u8> {
    let (high, low) = (HEX_VALUES[usize::from(high)], HEX_VALUES[usize::from(low)]);
    ((high | low) & NOT_HEX == 0).then_some((high << 4) | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_agree_with_the_standard_library() {
        for value in 0..=255u8 {
            let [high, low] = HEX_PAIRS[usize::from(value)];
            assert_eq!([high, low], *format!("{value:02x}").as_bytes());
            assert_eq!(byte(high, low), Some(value));
            let upper = format!("{value:02X}");
            assert_eq!(byte(upper.as_bytes()[0], upper.as_bytes()[1]), Some(value));
        }
        for digit in 0..=255u8 {
            let is_hex = digit.is_ascii_hexdigit();
            assert_eq!(byte(digit, b'0').is_some(), is_hex, "{digit}");
            assert_eq!(byte(b'0', digit).is_some(), is_hex, "{digit}");
        }
    }
}
