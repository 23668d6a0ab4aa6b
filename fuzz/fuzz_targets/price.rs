//! libFuzzer on the `price` property of `tests/properties` (UTF-8 inputs only: `Price` parses
//! text).
#![no_main]

#[path = "../../tests/properties/mod.rs"]
#[allow(dead_code)]
mod properties;

libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    if let Ok(text) = std::str::from_utf8(body) {
        properties::price(text);
    }
});
