//! Hex digits both ways: signatures are spelled in lowercase hex, and received signatures and
//! `%XX` escapes are read in either case.

/// The eight lowercase hex digits of `word`'s four little-endian bytes, first byte first
/// (how an MD5 state word is spelled in a digest), as integer arithmetic on a `u64`: the
/// words come straight from the hash's registers, and reading them back as bytes would make
/// the processor wait for the hash's stores to reach the cache.
#[inline(always)]
pub(crate) fn eight_digits(word: u32) -> [u8; 8] {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const NIBBLES: u64 = 0x000f_000f_000f_000f;
    // Byte `i` of the word into byte `2i`.
    let spread = u64::from(word);
    let spread = (spread | (spread << 16)) & 0x0000_ffff_0000_ffff;
    let spread = (spread | (spread << 8)) & 0x00ff_00ff_00ff_00ff;
    // Its high nibble stays in byte `2i`, its low nibble goes to byte `2i + 1`.
    let nibbles = ((spread >> 4) & NIBBLES) | ((spread & NIBBLES) << 8);
    // `'0' + n`, and `'a' - '0' - 10` more where `n > 9`: bit 4 of `n + 6` says so. No byte
    // carries into the next (each stays below 0x67).
    let letters = ((nibbles + ONES * 6) >> 4) & ONES;
    (nibbles + ONES * u64::from(b'0') + letters * u64::from(b'a' - b'0' - 10)).to_le_bytes()
}

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

/// The sixteen bytes thirty-two hex digits (either case) spell, or `None`: eight digits at a
/// time, as integer arithmetic on a `u64`, instead of two table lookups and a branch per byte
/// (a received signature is read on every notification).
pub(crate) fn sixteen_bytes(digits: &[u8; 32]) -> Option<[u8; 16]> {
    let mut bytes = [0u8; 16];
    let mut invalid = 0;
    for (eight, four) in digits
        .as_chunks::<8>()
        .0
        .iter()
        .zip(bytes.as_chunks_mut::<4>().0)
    {
        let (value, bad) = four_bytes(u64::from_le_bytes(*eight));
        *four = value;
        invalid |= bad;
    }
    (invalid == 0).then_some(bytes)
}

/// The four bytes eight hex digits spell (the first digit in the lowest byte of `word`), and
/// a non-zero mark when one of them is not a hex digit.
#[inline(always)]
fn four_bytes(word: u64) -> ([u8; 4], u64) {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // Each byte below 0x80 (a byte above is no digit), so that adding a byte's worth to each
    // never carries into the next: the high bit of `low + 0x80 - c` says `>= c`.
    let low = word & !HIGHS;
    let at_least = |text: u64, c: u8| (text + ONES * u64::from(0x80 - c)) & HIGHS;
    let digit = at_least(low, b'0') & !at_least(low, b'9' + 1);
    // Letters folded to lowercase: only `A`-`F` and `a`-`f` fold into `a`-`f`.
    let folded = low | (ONES * 0x20);
    let letter = at_least(folded, b'a') & !at_least(folded, b'f' + 1);
    let bad = HIGHS ^ ((digit | letter) & !word & HIGHS);
    // A digit's value is its low four bits; a letter's, those plus nine.
    let values = (low & (ONES * 0x0f)) + (letter >> 7) * 9;
    // Each pair of digits into the low byte of its 16-bit lane, then the lanes side by side.
    const LANES: u64 = 0x00ff_00ff_00ff_00ff;
    let pairs = ((values & LANES) << 4) | ((values >> 8) & LANES);
    let pairs = (pairs | (pairs >> 8)) & 0x0000_ffff_0000_ffff;
    let [first, second, third, fourth, ..] = (pairs | (pairs >> 16)).to_le_bytes();
    ([first, second, third, fourth], bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_agree_with_the_standard_library() {
        for value in 0..=255u8 {
            let lower = format!("{value:02x}");
            let [high, low] = lower.as_bytes().try_into().unwrap();
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

    /// Eight digits at once spell what the standard library spells: every byte value at
    /// every place of the word, among neighbours of every kind.
    #[test]
    fn eight_digits_agree_with_the_standard_library() {
        let plain = |word: u32| -> String {
            word.to_le_bytes()
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect()
        };
        for value in 0..=255u32 {
            for place in 0..4 {
                for background in [0, u32::MAX, 0x0a09_f0a9, 0x9fa0_0f90] {
                    let word = (background & !(0xff << (8 * place))) | (value << (8 * place));
                    assert_eq!(eight_digits(word), plain(word).as_bytes(), "{word:#010x}");
                }
            }
        }
    }

    /// Sixteen bytes at once agree with the standard library's reading of every pair: every
    /// byte value at every place, in either case, and any byte at any place of the digits.
    #[test]
    fn sixteen_bytes_agree_with_the_standard_library() {
        let plain = |digits: &[u8; 32]| -> Option<[u8; 16]> {
            let text = core::str::from_utf8(digits).ok()?;
            let mut bytes = [0u8; 16];
            for (i, byte) in bytes.iter_mut().enumerate() {
                let pair = text.get(2 * i..2 * i + 2)?;
                if !pair.bytes().all(|digit| digit.is_ascii_hexdigit()) {
                    return None;
                }
                *byte = u8::from_str_radix(pair, 16).ok()?;
            }
            Some(bytes)
        };
        let mut cases = Vec::new();
        for value in 0..=255u8 {
            for upper in [false, true] {
                let pair = if upper {
                    format!("{value:02X}")
                } else {
                    format!("{value:02x}")
                };
                for place in 0..16 {
                    let mut digits = *b"0123456789abcdefABCDEF0123456789";
                    digits[2 * place..2 * place + 2].copy_from_slice(pair.as_bytes());
                    cases.push(digits);
                }
            }
        }
        for odd in 0..=255u8 {
            for place in 0..32 {
                let mut digits = *b"fedcba9876543210FEDCBA9876543210";
                digits[place] = odd;
                cases.push(digits);
            }
        }
        for digits in &cases {
            assert_eq!(sixteen_bytes(digits), plain(digits), "{digits:?}");
        }
    }
}
