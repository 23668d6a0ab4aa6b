//! The keywords of `#[xorpay(...)]`, compared against paths without allocating.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// One keyword of the attribute.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

/// The attribute's own name: `#[xorpay(...)]`.
pub(crate) const XORPAY: Symbol = Symbol("xorpay");
/// Struct: the request kind, `kind = jsapi`.
pub(crate) const KIND: Symbol = Symbol("kind");
/// Struct: where generated code finds the runtime, `crate = path`.
pub(crate) const CRATE: Symbol = Symbol("crate");
/// Struct value of `notify_url`: take it from the client's configuration.
pub(crate) const FROM_CLIENT: Symbol = Symbol("from_client");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
