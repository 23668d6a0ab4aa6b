//! libFuzzer on the `response` property of `tests/properties`.
#![no_main]

#[path = "../../tests/properties/mod.rs"]
#[allow(dead_code)]
mod properties;

libfuzzer_sys::fuzz_target!(|body: &[u8]| properties::response(body));
