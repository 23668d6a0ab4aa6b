//! Eight bytes at a time: finding the bytes that end a run of plain text (`%`, `+`, `&`,
//! `=`) with integer arithmetic on a `u64` instead of one comparison per byte.
//!
//! A word is eight bytes of the body read little-endian, so its lowest byte comes first in
//! the body whatever the machine. Past the end of the body a word is padded with `&`, which
//! ends every component: a reader never runs off the end.

/// Bytes in a word.
pub(super) const WORD: usize = 8;

/// `0x01` in every byte.
const ONES: u64 = u64::from_le_bytes([0x01; WORD]);
/// The high bit of every byte.
pub(super) const HIGHS: u64 = u64::from_le_bytes([0x80; WORD]);
/// What a word holds past the end of the body.
const PAD: u8 = b'&';

/// The eight bytes of `bytes` from `at`, padded with `&` past the end.
#[inline(always)]
pub(super) fn load(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + WORD) {
        Some(word) => u64::from_le_bytes(word.try_into().unwrap_or([PAD; WORD])),
        None => load_last(bytes, at),
    }
}

/// [`load`] of the body's last few bytes, padded: once per body, kept out of the loops.
#[cold]
#[inline(never)]
fn load_last(bytes: &[u8], at: usize) -> u64 {
    let rest = bytes.get(at..).unwrap_or_default();
    let mut padded = [PAD; WORD];
    for (slot, &byte) in padded.iter_mut().zip(rest) {
        *slot = byte;
    }
    u64::from_le_bytes(padded)
}

/// Writes the eight bytes of `word` to `out` from `at`; `out` has room by construction.
#[inline(always)]
pub(super) fn store(out: &mut [u8], at: usize, word: u64) {
    if let Some(slot) = out.get_mut(at..).and_then(<[u8]>::first_chunk_mut::<WORD>) {
        *slot = word.to_le_bytes();
    }
}

/// The high bit set in each byte of `word` that equals `byte`, up to the first one (bytes
/// after the first may be marked wrongly; only the first is ever used).
#[inline(always)]
pub(super) fn equal(word: u64, byte: u8) -> u64 {
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    zero_where_equal.wrapping_sub(ONES) & !zero_where_equal & HIGHS
}

/// As [`equal`], for the three bytes `low`, `low + 1` and `low + 2` at once (`$`, `%`, `&`
/// for `b'$'`); `low` is a multiple of four, so those three and no other byte are below
/// three once XOR-ed with it.
#[inline(always)]
pub(super) fn one_of_three(word: u64, low: u8) -> u64 {
    let below_three_where_one = word ^ (ONES * u64::from(low));
    below_three_where_one.wrapping_sub(ONES * 3) & !below_three_where_one & HIGHS
}

/// The index of the first marked byte of a non-zero mark from [`equal`].
#[inline(always)]
pub(super) fn first(marks: u64) -> usize {
    (marks.trailing_zeros() / 8) as usize
}

/// Every bit of the bytes before the first marked one (all of them when none is marked).
#[inline(always)]
pub(super) fn before_first(marks: u64) -> u64 {
    (marks & marks.wrapping_neg()).wrapping_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each word function against a byte-by-byte reading of every offset of a body holding
    /// every byte value, the needles side by side and high bytes next to them.
    #[test]
    fn words_agree_with_bytes() {
        let mut body: Vec<u8> = (0..=255u8).collect();
        body.extend_from_slice(b"%%++&&==\x80=\xff&\x01%\x00+");
        for at in 0..=body.len() {
            let word = load(&body, at);
            let bytes = word.to_le_bytes();
            for (i, &byte) in bytes.iter().enumerate() {
                assert_eq!(byte, body.get(at + i).copied().unwrap_or(PAD));
            }
            let marks = one_of_three(word, b'$');
            match bytes.iter().position(|byte| b"$%&".contains(byte)) {
                Some(index) => assert_eq!(first(marks), index, "$%& at {at}"),
                None => assert_eq!(marks, 0, "$%& at {at}"),
            }
            for needle in [b'%', b'+', b'&', b'='] {
                let marks = equal(word, needle);
                match bytes.iter().position(|&byte| byte == needle) {
                    Some(index) => {
                        assert_eq!(first(marks), index);
                        let before = before_first(marks);
                        assert_eq!(before.to_le_bytes()[..index], [0xff; WORD][..index]);
                        assert_eq!(before.to_le_bytes()[index] & 0x80, 0);
                    }
                    None => {
                        assert_eq!(marks, 0, "{needle} at {at}");
                        assert_eq!(before_first(marks), u64::MAX);
                    }
                }
            }
            let mut out = [0u8; 3 * WORD];
            store(&mut out, WORD, word);
            assert_eq!(out[WORD..2 * WORD], bytes);
            assert_eq!(out[..WORD], [0; WORD]);
        }
    }
}
