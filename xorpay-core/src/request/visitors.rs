//! The visitors an order's values are streamed through: the signer, the form writer (which
//! signs the very bytes it writes), and the reader of an order's facts (number, price,
//! lifetime, own `notify_url`). Each applies the same [`Checks`].

use core::fmt::{Display, Write as _};

use super::checks::{Checks, Tee, ValueCheck};
use super::error::RequestError;
use super::order::XorPayOrder;
use super::visit::{ValueSource, Visit};
use crate::credentials::AppSecret;
use crate::form::FormBody;
use crate::pay_type::{Endpoint, RequestKind};
use crate::price::Price;
use crate::sign::{Signature, Signer};

/// A signed payment request: the form body (with `sign`) and where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    kind: RequestKind,
    body: String,
    signature: Signature,
}

impl SignedRequest {
    /// The kind of payment.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// The endpoint the request goes to.
    pub fn endpoint(&self) -> Endpoint {
        self.kind.endpoint()
    }

    /// The URL-encoded form body, `sign` last.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The signature, also the last pair of the body.
    pub fn signature(&self) -> Signature {
        self.signature
    }
}

/// The signature of `order`, with `client_url` as its `notify_url` if it takes it from the
/// client, computed without allocating.
pub(super) fn signature<O: XorPayOrder>(
    order: &O,
    client_url: Option<&str>,
    secret: &AppSecret,
) -> Result<Signature, RequestError> {
    let mut visitor = SignVisitor {
        signer: Signer::new(),
        checks: Checks::new(client_url),
    };
    order.__xorpay_visit(&mut visitor);
    visitor.checks.result()?;
    Ok(visitor.signer.finish(secret))
}

/// The form body of `order`, signed, with `client_url` as its `notify_url` if it takes it
/// from the client: how the client signs any order.
///
/// # Errors
/// A [`RequestError`]; [`RequestError::NoClientNotifyUrl`] for an order that takes its URL
/// from the client when `client_url` is `None`.
pub(crate) fn signed_request<O: XorPayOrder>(
    order: &O,
    client_url: Option<&str>,
    secret: &AppSecret,
) -> Result<SignedRequest, RequestError> {
    let mut visitor = FormVisitor {
        body: FormBody::new(),
        signer: Signer::new(),
        checks: Checks::new(client_url),
    };
    order.__xorpay_visit(&mut visitor);
    visitor.checks.result()?;
    let signature = visitor.signer.finish(secret);
    visitor.body.pair("sign", signature.as_str());
    Ok(SignedRequest {
        kind: order.kind(),
        body: visitor.body.into_string(),
        signature,
    })
}

/// Feeds the signed values to the signer.
struct SignVisitor<'a> {
    signer: Signer,
    checks: Checks<'a>,
}

impl Visit for SignVisitor<'_> {
    #[inline(always)]
    fn signed_str(&mut self, key: &'static str, source: ValueSource, value: &str) {
        let check = ValueCheck::of_str(key, source, value);
        self.checks.signed(key, source, &check, Ok(()));
        self.signer.value(value);
    }

    fn signed_display<T: Display + ?Sized>(
        &mut self,
        key: &'static str,
        source: ValueSource,
        value: &T,
    ) {
        let mut tee = Tee {
            check: ValueCheck::default(),
            signer: Some(&mut self.signer),
            body: None,
        };
        let formatted = write!(tee, "{value}");
        self.checks.signed(key, source, &tee.check, formatted);
    }

    #[inline(always)]
    fn signed_price(&mut self, _source: ValueSource, price: Price) {
        self.signer.price(price);
    }

    fn client_notify_url(&mut self) {
        match self.checks.client_notify_url {
            Some(url) => self.signed_str("notify_url", ValueSource::Client, url),
            None => self.checks.fail(RequestError::NoClientNotifyUrl),
        }
    }

    fn unsigned<T: Display + ?Sized>(&mut self, _key: &'static str, _value: &T) {}

    fn expire(&mut self, seconds: u64) {
        self.checks.expire(seconds);
    }
}

/// Writes every value into the form body and the signed ones into the signer, from the
/// same formatted text.
struct FormVisitor<'a> {
    body: FormBody,
    signer: Signer,
    checks: Checks<'a>,
}

impl FormVisitor<'_> {
    /// Writes one value; `signed` carries its source when it is covered by the signature.
    fn write<T: Display + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
        signed: Option<ValueSource>,
    ) {
        let mut tee = Tee {
            check: ValueCheck::default(),
            signer: signed.is_some().then_some(&mut self.signer),
            body: Some(self.body.value_writer(key)),
        };
        let formatted = write!(tee, "{value}");
        match signed {
            Some(source) => self.checks.signed(key, source, &tee.check, formatted),
            None => self.checks.unsigned(key, formatted),
        }
    }
}

impl Visit for FormVisitor<'_> {
    fn signed_str(&mut self, key: &'static str, source: ValueSource, value: &str) {
        self.write(key, value, Some(source));
    }

    fn signed_display<T: Display + ?Sized>(
        &mut self,
        key: &'static str,
        source: ValueSource,
        value: &T,
    ) {
        self.write(key, value, Some(source));
    }

    fn signed_price(&mut self, source: ValueSource, price: Price) {
        self.write("price", &price, Some(source));
    }

    fn client_notify_url(&mut self) {
        match self.checks.client_notify_url {
            Some(url) => self.write("notify_url", url, Some(ValueSource::Client)),
            None => self.checks.fail(RequestError::NoClientNotifyUrl),
        }
    }

    fn unsigned<T: Display + ?Sized>(&mut self, key: &'static str, value: &T) {
        self.write(key, value, None);
    }

    fn expire(&mut self, seconds: u64) {
        self.checks.expire(seconds);
        self.write("expire", &seconds, None);
    }
}

/// The order number, price and lifetime of an order, and the `notify_url` it carries itself
/// (`None` when it takes the service's), read through the same visit as signing, with the
/// same checks (the service's `notify_url` aside: it is not known here).
pub(crate) struct OrderFacts {
    pub(crate) order_id: String,
    pub(crate) price: Price,
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) expire: Option<u64>,
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) notify_url: Option<String>,
}

/// Reads an order's [`OrderFacts`].
pub(crate) fn order_facts<O: XorPayOrder>(order: &O) -> Result<OrderFacts, RequestError> {
    let mut visitor = FactsVisitor {
        order_id: None,
        price: None,
        expire: None,
        notify_url: None,
        checks: Checks::new(None),
    };
    order.__xorpay_visit(&mut visitor);
    visitor.checks.result()?;
    Ok(OrderFacts {
        order_id: visitor
            .order_id
            .ok_or(RequestError::EmptyValue { field: "order_id" })?,
        price: visitor
            .price
            .ok_or(RequestError::EmptyValue { field: "price" })?,
        expire: visitor.expire,
        notify_url: visitor.notify_url,
    })
}

/// Keeps the order number, the price, the lifetime and the order's own `notify_url`; checks
/// the rest.
struct FactsVisitor<'a> {
    order_id: Option<String>,
    price: Option<Price>,
    expire: Option<u64>,
    notify_url: Option<String>,
    checks: Checks<'a>,
}

impl Visit for FactsVisitor<'_> {
    fn signed_str(&mut self, key: &'static str, source: ValueSource, value: &str) {
        let check = ValueCheck::of_str(key, source, value);
        self.checks.signed(key, source, &check, Ok(()));
        match key {
            "order_id" => self.order_id = Some(value.to_owned()),
            "notify_url" => self.notify_url = Some(value.to_owned()),
            _ => {}
        }
    }

    fn signed_display<T: Display + ?Sized>(
        &mut self,
        key: &'static str,
        source: ValueSource,
        value: &T,
    ) {
        let mut text = String::new();
        let mut tee = Tee {
            check: ValueCheck::default(),
            signer: None,
            body: None,
        };
        let formatted = write!(tee, "{value}").and_then(|()| write!(text, "{value}"));
        self.checks.signed(key, source, &tee.check, formatted);
        match key {
            "order_id" => self.order_id = Some(text),
            "notify_url" => self.notify_url = Some(text),
            _ => {}
        }
    }

    fn signed_price(&mut self, _source: ValueSource, price: Price) {
        self.price = Some(price);
    }

    fn client_notify_url(&mut self) {}

    fn unsigned<T: Display + ?Sized>(&mut self, key: &'static str, value: &T) {
        let mut tee = Tee {
            check: ValueCheck::default(),
            signer: None,
            body: None,
        };
        let formatted = write!(tee, "{value}");
        self.checks.unsigned(key, formatted);
    }

    fn expire(&mut self, seconds: u64) {
        self.checks.expire(seconds);
        self.expire = Some(seconds);
    }
}
