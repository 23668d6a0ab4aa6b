//! How an order's protocol values reach whoever reads them: the derive generates one call
//! per value ([`Visit`]), and each value says where it came from ([`ValueSource`]).

use core::fmt::{self, Display};

use crate::price::Price;

/// Receives an order's protocol fields: the signed ones in signature order, then the others.
#[doc(hidden)]
pub trait Visit {
    /// A signed value that is already text.
    fn signed_str(&mut self, key: &'static str, source: ValueSource, value: &str);
    /// A signed value to format with `Display`.
    fn signed_display<T: Display + ?Sized>(
        &mut self,
        key: &'static str,
        source: ValueSource,
        value: &T,
    );
    /// The signed price.
    fn signed_price(&mut self, source: ValueSource, price: Price);
    /// The signed `notify_url` of an order that takes it from the client.
    fn client_notify_url(&mut self);
    /// A value that is sent but not signed.
    fn unsigned<T: Display + ?Sized>(&mut self, key: &'static str, value: &T);
    /// The order lifetime in whole seconds (unsigned).
    fn expire(&mut self, seconds: u64);
}

/// Where a signed value came from, for [`SignatureExplanation`](super::SignatureExplanation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueSource {
    /// A field of the struct, by name.
    Field(&'static str),
    /// A constant in the derive attribute (`#[xorpay(notify_url = "…")]`).
    Attribute,
    /// The request kind (`pay_type`).
    Kind,
    /// The client's configuration (`notify_url = from_client`).
    Client,
}

impl Display for ValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueSource::Field(name) => write!(f, "field `{name}`"),
            ValueSource::Attribute => f.write_str("#[xorpay(...)] constant"),
            ValueSource::Kind => f.write_str("request kind"),
            ValueSource::Client => f.write_str("client configuration"),
        }
    }
}
