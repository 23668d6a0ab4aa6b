//! Reading untrusted form bodies under the rules in the [module documentation](super).
//!
//! Every pair is decoded onto one buffer, one component (key or value) at a time; a
//! component is read a word at a time until a byte that needs a decision (`%`, `+`, the `&`
//! that ends it, and for a key the `=`). Each word is stored whole and the write position
//! moves past the plain bytes only, so plain runs cost one load and one store per eight
//! bytes. A component is checked to be UTF-8 only when a byte of it has its high bit set:
//! ASCII is UTF-8. A key the reader expects next (a notification's fields come in one order)
//! is recognised by its bytes, when the body spells it plainly, instead of being decoded.

use core::ops::Range;

use super::FormError;
use super::words::{self, HIGHS, WORD};
use crate::hex;

/// Decodes every `key=value` pair of an untrusted body, in body order, under the rules in the
/// [module documentation](super).
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
    let mut every = Every(Vec::new());
    let text = decode_kept(body, &mut every)?;
    every
        .0
        .into_iter()
        .map(|(key, value)| {
            let value = text.get(value).unwrap_or_default();
            let value = core::str::from_utf8(value).map_err(|_| FormError::InvalidUtf8)?;
            Ok((key, value.to_owned()))
        })
        .collect()
}

/// What a reader keeps of a form body, as [`decode_kept`] reads it pair by pair.
pub(crate) trait Keep {
    /// What a kept key is called.
    type Key;
    /// What stops the reading.
    type Error: From<FormError>;

    /// The key likely to come next, spelled plainly, and what [`Keep::key`] calls it: when
    /// the body has exactly that key and its `=` there, the key is taken without decoding.
    /// That key must hold none of `%`, `+`, `&` and `=` (it then decodes to itself), and
    /// `key` must call it the same: the pair is then read as decoding its key would.
    fn expected(&self) -> Option<(&'static str, Self::Key)>;

    /// What the pair with this decoded key (UTF-8 by then) is kept as, or `None` to drop it.
    fn key(&self, key: &[u8]) -> Option<Self::Key>;

    /// Keeps a pair whose decoded value is at `value` in the buffer. Repeated keys are for it
    /// to notice.
    fn value(&mut self, key: Self::Key, value: Range<usize>) -> Result<(), Self::Error>;
}

/// Every pair, under its decoded key: what [`decode`] keeps.
struct Every(Vec<(String, Range<usize>)>);

impl Keep for Every {
    type Key = String;
    type Error = FormError;

    fn expected(&self) -> Option<(&'static str, String)> {
        None
    }

    fn key(&self, key: &[u8]) -> Option<String> {
        Some(String::from_utf8_lossy(key).into_owned())
    }

    fn value(&mut self, key: String, value: Range<usize>) -> Result<(), FormError> {
        if self.0.iter().any(|(seen, _)| *seen == key) {
            return Err(FormError::DuplicateKey {
                key: key.chars().take(64).collect(),
            });
        }
        self.0.push((key, value));
        Ok(())
    }
}

/// Decodes `body` pair by pair onto one buffer, which it returns, under the rules of
/// [`decode`] but for repeated keys, which are `keeper`'s to notice. For a pair `keeper`
/// keeps, the decoded value stays in the buffer; any other pair is checked, then dropped.
pub(crate) fn decode_kept<K: Keep>(body: &[u8], keeper: &mut K) -> Result<Vec<u8>, K::Error> {
    // Decoding never lengthens, and a word is stored whole: room for the body and one word.
    // Made as a copy of the body (reads are from `body`, never from it): cheaper than
    // asking the allocator for zeroed memory.
    let mut out = Vec::with_capacity(body.len() + WORD);
    out.extend_from_slice(body);
    out.extend_from_slice(&[0; WORD]);
    let mut written = 0;
    let mut at = 0;
    while at < body.len() {
        if body.get(at) == Some(&b'&') {
            at += 1;
            continue;
        }
        if let Some((key, answer)) = keeper.expected()
            && is_plain_key(body, at, key)
        {
            let value = component::<false>(body, at + key.len() + 1, &mut out, written)?;
            at = value.read + 1;
            keeper.value(answer, written..value.written)?;
            written = value.written;
            continue;
        }
        let key = component::<true>(body, at, &mut out, written)?;
        if body.get(key.read) != Some(&b'=') {
            return Err(FormError::MissingEquals { offset: at }.into());
        }
        let answer = keeper.key(out.get(written..key.written).unwrap_or_default());
        // The value is decoded over the key, which `keeper` has read.
        let value = component::<false>(body, key.read + 1, &mut out, written)?;
        at = value.read + 1;
        if let Some(answer) = answer {
            keeper.value(answer, written..value.written)?;
            written = value.written;
        }
    }
    out.truncate(written);
    Ok(out)
}

/// Whether the body has `key` and its `=` from byte `at`, byte for byte: then it decodes to
/// `key` (a plain key has no `%` or `+`), and ends there.
#[inline(always)]
fn is_plain_key(body: &[u8], at: usize, key: &str) -> bool {
    let key = key.as_bytes();
    body.get(at..at + key.len()) == Some(key) && body.get(at + key.len()) == Some(&b'=')
}

/// Where a component ended: at this byte of the body (its `&` or `=`, or the end), and after
/// this many bytes of the buffer.
struct End {
    read: usize,
    written: usize,
}

/// Decodes one component from byte `at` of `body` onto `out` from `to`: `+` is a space,
/// `%XX` a byte, once. It ends at `&` or the end of the body, and a key (`KEY`) also at `=`.
#[inline(always)]
fn component<const KEY: bool>(
    body: &[u8],
    mut at: usize,
    out: &mut [u8],
    mut to: usize,
) -> Result<End, FormError> {
    let start = to;
    // The high bits of every byte written: none set means ASCII.
    let mut high = 0;
    loop {
        let word = words::load(body, at);
        // `$` comes with `%` and `&` in one test, and is then copied as it is.
        let mut marks = words::one_of_three(word, b'$') | words::equal(word, b'+');
        if KEY {
            marks |= words::equal(word, b'=');
        }
        words::store(out, to, word);
        high |= word & words::before_first(marks);
        if marks == 0 {
            at += WORD;
            to += WORD;
            continue;
        }
        let plain = words::first(marks);
        at += plain;
        to += plain;
        let decoded = match body.get(at) {
            Some(b'$') => {
                at += 1;
                b'$'
            }
            Some(b'+') => {
                at += 1;
                b' '
            }
            Some(b'%') => {
                // Escapes come in runs (`%22%3A%22`): decode the whole run here.
                loop {
                    let digits = body.get(at + 1..at + 3).unwrap_or_default();
                    let byte = match *digits {
                        [first, second] => hex::byte(first, second),
                        _ => None,
                    };
                    let byte = byte.ok_or(FormError::MalformedEscape { offset: at })?;
                    at += 3;
                    if body.get(at) != Some(&b'%') {
                        break byte;
                    }
                    if let Some(slot) = out.get_mut(to) {
                        *slot = byte;
                    }
                    high |= u64::from(byte);
                    to += 1;
                }
            }
            // `&`, a key's `=`, or the end of the body.
            _ => break,
        };
        if let Some(slot) = out.get_mut(to) {
            *slot = decoded;
        }
        high |= u64::from(decoded);
        to += 1;
    }
    // Each component on its own: two invalid halves side by side can make valid UTF-8.
    if high & HIGHS != 0 {
        let text = out.get(start..to).unwrap_or_default();
        core::str::from_utf8(text).map_err(|_| FormError::InvalidUtf8)?;
    }
    Ok(End {
        read: at,
        written: to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::FormBody;

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

    /// `$` is found with `%` and `&` (form/words.rs) and must come out as itself.
    #[test]
    fn dollar_signs_are_plain_text() {
        assert_eq!(
            pairs("a$=$1$&$$b=c%24$d").unwrap(),
            [("a$".into(), "$1$".into()), ("$$b".into(), "c$$d".into())]
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
