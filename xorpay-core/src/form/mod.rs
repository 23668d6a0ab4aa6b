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
//!
//! Decoding reads the body eight bytes at a time (`form/words.rs`): notifications are parsed on
//! every payment, and their `detail` is dense with escapes.

mod decode;
mod encode;
mod words;

pub use decode::decode;
pub(crate) use decode::{Keep, decode_kept};
pub use encode::{FormBody, ValueWriter};

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
