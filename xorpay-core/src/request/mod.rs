//! Payment requests built from the merchant's own order types.
//!
//! `#[derive(XorPayOrder)]` implements [`XorPayOrder`] for a merchant's struct: it records
//! the request kind and, in generated code, visits the struct's protocol fields in the
//! signature's order. This module turns such an order into a signed request:
//! [`Signable::signature`] streams the values into MD5 with no allocation, and
//! [`Signable::to_request`] writes the form body and computes the signature **in the same
//! pass over the same bytes**, so what is signed is byte for byte what is sent. Both check
//! every value on the way: an empty signed value, a `Display` that fails, a `notify_url` that
//! is not an absolute http(s) URL and an `expire` of zero are refused with a [`RequestError`].
//!
//! The `notify_url` of an order comes from one of its fields, from a constant on the struct,
//! or from the client's configuration (`#[xorpay(notify_url = from_client)]`). Orders of the
//! last sort implement [`Signable`] only once a URL is attached with
//! [`NotifyUrlFromClient::with_notify_url`] (the client does this), so an order without a
//! `notify_url` cannot be signed at all.
//!
//! This module does not send anything and does not know the merchant's `aid`.

//! The module is split by job, each file below the ones that use it: `visit` (how values
//! reach a reader), `error` (what XorPay would refuse), `notify_url` (where the URL comes
//! from), `order` (the derive's trait), `checks` and `visitors` (streaming the values into
//! the signer and the form, checked), `explain` (the signature explainer), `signable`
//! (signing an order).

mod checks;
mod error;
mod explain;
mod notify_url;
mod order;
mod signable;
pub(crate) mod visit;
mod visitors;

pub use error::{MAX_ORDER_ID, RequestError};
pub use explain::{SignatureExplanation, SignedValue};
pub use notify_url::{CarriesNotifyUrl, ClientNotifyUrl, NotifyUrlSource, OwnNotifyUrl};
pub use order::{ExpireSeconds, XorPayOrder};
pub use signable::{NotifyUrlAttached, NotifyUrlFromClient, Signable, WithNotifyUrl};
pub use visit::ValueSource;
pub use visitors::SignedRequest;
#[cfg_attr(not(feature = "client"), allow(unused_imports))]
pub(crate) use visitors::{OrderFacts, order_facts, signed_request};
