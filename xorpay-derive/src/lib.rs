//! `#[derive(XorPayOrder)]`: turns a merchant's own order struct into a XorPay payment
//! request whose signature order is fixed at compile time.
//!
//! Use it through the `xorpay` crate, which re-exports it together with the runtime its
//! generated code calls; the attribute reference is in the documentation of
//! `xorpay::XorPayOrder`.
//!
//! This crate is a thin shell. Only this file touches `proc_macro`; behind it, one module per
//! job: `attr` parses `#[xorpay(...)]`, `ast` builds the input's model, `check` applies the
//! protocol's rules (from `protocol`), `expand` writes the impl, `fallback` writes a stub impl
//! after errors, `variants` derives an enum whose variants hold order structs, and `ctxt`
//! collects every error so all are reported at once.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod protocol;
mod symbol;
mod variants;

use proc_macro::TokenStream;

/// Derives `xorpay::XorPayOrder` for a struct with named fields, or for an enum whose variants
/// each hold one such struct. See `xorpay::XorPayOrder` for the attributes.
#[proc_macro_derive(XorPayOrder, attributes(xorpay))]
pub fn derive_xorpay_order(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

#[cfg(test)]
mod tests;
