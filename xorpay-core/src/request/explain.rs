//! The signature explainer: an order's signed values in order, with where each came from and
//! the secret redacted, for when XorPay answers `sign_error`.

use core::fmt::{self, Display, Write as _};

use super::order::XorPayOrder;
use super::visit::{ValueSource, Visit};
use crate::pay_type::RequestKind;
use crate::price::Price;

/// One signed value of a [`SignatureExplanation`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedValue {
    /// The protocol name, e.g. `order_id`.
    pub name: &'static str,
    /// The text that is signed (or a note when its `Display` failed).
    pub value: String,
    /// Where it came from.
    pub source: ValueSource,
}

/// The signed values of one request in signature order, secret redacted.
///
/// Its `Display` is a table to compare with what XorPay expects, followed by the exact text
/// that goes into MD5 before the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureExplanation {
    /// The request kind.
    pub kind: RequestKind,
    /// The signed values, in order, without the secret.
    pub values: Vec<SignedValue>,
}

impl Display for SignatureExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.values.iter().map(|value| value.name).collect();
        writeln!(
            f,
            "sign = md5({} + app_secret), {} request to {}{{aid}}",
            names.join(" + "),
            self.kind.keyword(),
            self.kind.endpoint().path_prefix()
        )?;
        let width = names.iter().map(|name| name.len()).max().unwrap_or(0);
        for (position, value) in self.values.iter().enumerate() {
            writeln!(
                f,
                "  {}. {:<width$} = {:?}  <- {}",
                position + 1,
                value.name,
                value.value,
                value.source
            )?;
        }
        writeln!(
            f,
            "  {}. {:<width$} = <redacted>",
            self.values.len() + 1,
            "app_secret"
        )?;
        // Unescaped on purpose: this is the exact text to reproduce by hand.
        f.write_str("  md5 input, then the secret: ")?;
        for value in &self.values {
            f.write_str(&value.value)?;
        }
        Ok(())
    }
}

/// The explanation of `order`'s signature, with `client_url` as its `notify_url` if it takes
/// it from the client.
pub(super) fn explain<O: XorPayOrder>(order: &O, client_url: Option<&str>) -> SignatureExplanation {
    let mut visitor = ExplainVisitor {
        values: Vec::new(),
        client_notify_url: client_url,
    };
    order.__xorpay_visit(&mut visitor);
    SignatureExplanation {
        kind: order.kind(),
        values: visitor.values,
    }
}

/// Collects the signed values as text.
struct ExplainVisitor<'a> {
    values: Vec<SignedValue>,
    client_notify_url: Option<&'a str>,
}

impl Visit for ExplainVisitor<'_> {
    fn signed_str(&mut self, key: &'static str, source: ValueSource, value: &str) {
        self.values.push(SignedValue {
            name: key,
            value: value.to_owned(),
            source,
        });
    }

    fn signed_display<T: Display + ?Sized>(
        &mut self,
        key: &'static str,
        source: ValueSource,
        value: &T,
    ) {
        let mut text = String::new();
        if write!(text, "{value}").is_err() {
            text = "<its Display implementation failed>".to_owned();
        }
        self.values.push(SignedValue {
            name: key,
            value: text,
            source,
        });
    }

    fn signed_price(&mut self, source: ValueSource, price: Price) {
        self.signed_str("price", source, price.to_wire().as_str());
    }

    fn client_notify_url(&mut self) {
        let url = self.client_notify_url.unwrap_or_default();
        self.signed_str("notify_url", ValueSource::Client, url);
    }

    fn unsigned<T: Display + ?Sized>(&mut self, _key: &'static str, _value: &T) {}

    fn expire(&mut self, _seconds: u64) {}
}
