//! `#[derive(XorPayOrder)]` for xorpay-rs. Use it through the `xorpay` crate, which
//! re-exports it and the runtime its generated code calls.
//!
//! The derive itself lands with its own issue; until then this crate exports nothing.
