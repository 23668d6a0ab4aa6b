//! MD5 over a message that arrives in pieces: the block buffer and the padding, around
//! md-5's compression function.
//!
//! `md5::Md5` does the same job; this one is kept because it costs less around the short
//! messages XorPay signs: blocks are handed to the compression function where they lie (not
//! first copied into a temporary, which makes the processor wait for the copy), the block
//! is kept zero past what was fed so that padding copies nothing, and the
//! wiping is done in whole-block stores. Measured with `benches/notify_ratio.rs`: parse +
//! verify 2.12× → 2.04× of the MD5 floor; with `benches/signing_ratio.rs`, padding in place
//! took signing from 1.15× to 1.11×.
//!
//! The padding is RFC 1321's (§3.1, §3.2): a `0x80` byte, zeros up to 56 bytes into a block,
//! then the message length in bits as a little-endian `u64`. The unit tests compare every
//! length and many ways of cutting the message with `md5::Md5`.
//!
//! The secret is the last piece of every formula, so the buffer holds its tail once it has
//! been fed, and the state what was derived from it: once the digest is out (and on drop)
//! the hasher is reset, which wipes the block.

use md5::block_api::compress;

/// Bytes in an MD5 block.
const BLOCK: usize = 64;
/// Where the length goes in the last block.
const LENGTH_AT: usize = BLOCK - 8;
/// MD5's state before any block (RFC 1321 §3.3).
const INITIAL: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// MD5 fed in pieces.
#[derive(Clone)]
pub(super) struct Md5Blocks {
    /// The state after the whole blocks hashed so far.
    state: [u32; 4],
    /// The block being filled: its first `filled` bytes, always fewer than a block; the
    /// rest is zero, which is most of the padding.
    block: [u8; BLOCK],
    filled: usize,
    /// Whole blocks hashed so far.
    blocks: u64,
}

impl Md5Blocks {
    pub(super) fn new() -> Md5Blocks {
        Md5Blocks {
            state: INITIAL,
            block: [0; BLOCK],
            filled: 0,
            blocks: 0,
        }
    }

    /// Feeds the next piece of the message.
    #[inline]
    pub(super) fn update(&mut self, bytes: &[u8]) {
        // A piece that leaves the block short of full is only copied.
        let end = self.filled + bytes.len();
        if let Some(room) = self.block.get_mut(self.filled..end)
            && end < BLOCK
        {
            room.copy_from_slice(bytes);
            self.filled = end;
        } else {
            self.update_across(bytes);
        }
    }

    /// Feeds a piece that fills the block: the block (then cleared), then the piece's whole
    /// blocks straight from it, then the rest into the block.
    fn update_across(&mut self, mut bytes: &[u8]) {
        if self.filled > 0 {
            let (head, rest) = bytes.split_at(BLOCK - self.filled);
            if let Some(room) = self.block.get_mut(self.filled..) {
                room.copy_from_slice(head);
            }
            compress(&mut self.state, core::slice::from_ref(&self.block));
            self.blocks = self.blocks.wrapping_add(1);
            self.block = [0; BLOCK];
            bytes = rest;
        }
        // The block is empty, so all zero, here.
        let (whole, rest) = bytes.as_chunks::<BLOCK>();
        compress(&mut self.state, whole);
        self.blocks = self.blocks.wrapping_add(whole.len() as u64);
        if let Some(room) = self.block.get_mut(..rest.len()) {
            room.copy_from_slice(rest);
        }
        self.filled = rest.len();
    }

    /// Pads the message in the block (already zero past what was fed), hashes the last
    /// block or two, and returns the digest as MD5's four state words: the digest is their
    /// little-endian bytes, in order (RFC 1321 §3.5). They are handed out as words because
    /// that is how the compression function stores them: reading them back as one 16-byte
    /// value would wait for those four stores to reach the cache. The hasher is then reset.
    pub(super) fn finish(&mut self) -> [u32; 4] {
        let bits = (self.blocks.wrapping_mul(BLOCK as u64))
            .wrapping_add(self.filled as u64)
            .wrapping_mul(8);
        if let Some(mark) = self.block.get_mut(self.filled) {
            *mark = 0x80;
        }
        if self.filled >= LENGTH_AT {
            // No room for the length: it goes in a block of its own.
            compress(&mut self.state, core::slice::from_ref(&self.block));
            self.block = [0; BLOCK];
        }
        if let Some(length) = self.block.last_chunk_mut::<8>() {
            *length = bits.to_le_bytes();
        }
        compress(&mut self.state, core::slice::from_ref(&self.block));
        let digest = self.state;
        self.reset();
        digest
    }

    /// Back to a hasher that has seen nothing: the block zeroed and the state the initial
    /// one, in stores the compiler may not drop (zeroize's `optimization_barrier`, after the
    /// stores, on the values stored).
    fn reset(&mut self) {
        self.state = INITIAL;
        self.block = [0; BLOCK];
        self.filled = 0;
        self.blocks = 0;
        zeroize::optimization_barrier(&self.block);
        zeroize::optimization_barrier(&self.state);
    }
}

impl Drop for Md5Blocks {
    fn drop(&mut self) {
        // Unless nothing was fed since the last reset (a finished hasher, most often).
        if self.filled != 0 || self.blocks != 0 {
            self.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use md5::{Digest, Md5};

    use super::*;

    /// The digest's bytes, from its words.
    fn bytes(words: [u32; 4]) -> [u8; 16] {
        let mut bytes = [0u8; 16];
        for (four, word) in bytes.as_chunks_mut::<4>().0.iter_mut().zip(words) {
            *four = word.to_le_bytes();
        }
        bytes
    }

    /// A message of every length up to four blocks and more, fed whole, byte by byte and in
    /// pieces of every size up to a block and more, gives md-5's own digest.
    #[test]
    fn every_length_and_cut_gives_md5s_digest() {
        let message: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=message.len() {
            let message = &message[..len];
            let expected: [u8; 16] = Md5::digest(message).into();
            for piece in 1..=BLOCK + 3 {
                let mut hasher = Md5Blocks::new();
                for chunk in message.chunks(piece) {
                    hasher.update(chunk);
                }
                assert_eq!(
                    bytes(hasher.finish()),
                    expected,
                    "{len} bytes in pieces of {piece}"
                );
            }
            // Empty pieces change nothing.
            let mut hasher = Md5Blocks::new();
            hasher.update(&[]);
            hasher.update(message);
            hasher.update(&[]);
            assert_eq!(
                bytes(hasher.finish()),
                expected,
                "{len} bytes with empty pieces"
            );
        }
    }

    /// RFC 1321's own test suite (appendix A.5), from outside this crate.
    #[test]
    fn rfc_1321_test_suite() {
        let suite = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "c3fcd3d76192e4007dfb496cca67e13b",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "d174ab98d277d9f5a5611c2c9f419d9f",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "57edf4a22be3c955ac49da2e2107b67a",
            ),
        ];
        for (message, expected) in suite {
            let mut hasher = Md5Blocks::new();
            hasher.update(message.as_bytes());
            let digest = bytes(hasher.finish());
            let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
            assert_eq!(hex, expected, "{message:?}");
        }
    }

    /// A message cut in three at every pair of places (so that a piece may fill a partly
    /// filled block and still hold whole blocks), and one long piece after a short one.
    #[test]
    fn every_three_way_cut_gives_md5s_digest() {
        let message: Vec<u8> = (0..200u32).map(|i| (i * 13 + 5) as u8).collect();
        let expected: [u8; 16] = Md5::digest(&message).into();
        for first in 0..=message.len() {
            for second in first..=message.len() {
                let mut hasher = Md5Blocks::new();
                hasher.update(&message[..first]);
                hasher.update(&message[first..second]);
                hasher.update(&message[second..]);
                assert_eq!(
                    bytes(hasher.finish()),
                    expected,
                    "cut at {first} and {second}"
                );
            }
        }
        let long = vec![0x5a; 1000];
        let mut hasher = Md5Blocks::new();
        hasher.update(b"short");
        hasher.update(&long);
        assert_eq!(
            bytes(hasher.finish()),
            <[u8; 16]>::from(Md5::digest([&b"short"[..], &long].concat()))
        );
    }

    /// Once the digest is out, the hasher holds nothing of the message (the secret's tail,
    /// in every formula, or what was derived from it): it is a new hasher again.
    #[test]
    fn the_hasher_is_reset_once_the_digest_is_out() {
        for len in [1, 11, 55, 56, 63, 64, 100] {
            let mut hasher = Md5Blocks::new();
            hasher.update(&vec![0xa5; len]);
            hasher.finish();
            assert_eq!(hasher.block, [0; BLOCK], "{len}");
            assert_eq!(
                (hasher.state, hasher.filled, hasher.blocks),
                (INITIAL, 0, 0)
            );
            // And hashes the next message as a new one would.
            hasher.update(b"abc");
            assert_eq!(
                bytes(hasher.finish()),
                <[u8; 16]>::from(Md5::digest(b"abc"))
            );
        }
    }
}
