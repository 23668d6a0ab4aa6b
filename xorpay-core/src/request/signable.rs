//! Signing an order: [`Signable`], for an order that carries its own `notify_url`, or for one
//! that takes it from the client once the URL is attached ([`NotifyUrlFromClient`]).

use super::error::RequestError;
use super::explain::{self, SignatureExplanation};
use super::notify_url::{CarriesNotifyUrl, ClientNotifyUrl};
use super::order::XorPayOrder;
use super::visitors::{self, SignedRequest};
use crate::credentials::AppSecret;
use crate::sign::Signature;

mod sealed {
    pub trait Sealed {}
}

/// Attaching a `notify_url` to an order that takes it from the client.
pub trait NotifyUrlFromClient: XorPayOrder<NotifyUrl = ClientNotifyUrl> + Sized {
    /// This order with `notify_url` attached, ready to sign. Clients do this for you.
    fn with_notify_url<'a>(&'a self, notify_url: &'a str) -> WithNotifyUrl<'a, Self> {
        WithNotifyUrl {
            order: self,
            notify_url,
        }
    }

    // The two below cannot be called (nothing implements `NotifyUrlAttached`, which is
    // sealed). They exist so
    // that `order.to_request(secret)` on an order without its URL is an error that says how to
    // attach it, instead of a list of unmet trait bounds.

    #[doc(hidden)]
    fn to_request(&self, secret: &AppSecret) -> Result<SignedRequest, RequestError>
    where
        Self: NotifyUrlAttached,
    {
        let _ = secret;
        Err(RequestError::NoClientNotifyUrl)
    }

    #[doc(hidden)]
    fn signature(&self, secret: &AppSecret) -> Result<Signature, RequestError>
    where
        Self: NotifyUrlAttached,
    {
        let _ = secret;
        Err(RequestError::NoClientNotifyUrl)
    }
}

/// Implemented by nothing: the bound of `to_request` and `signature` on an order that takes
/// its `notify_url` from the client, which must be signed as `order.with_notify_url(url)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes its notify_url from the client: sign `order.with_notify_url(url)` instead",
    label = "declared with `#[xorpay(notify_url = from_client)]`: it has no notify_url of its own",
    note = "`order.with_notify_url(\"https://shop.example.com/xorpay/notify\").to_request(&secret)` signs it; `Payments` attaches its own notify_url when it checks the order out"
)]
pub trait NotifyUrlAttached: sealed::Sealed {}

impl<O: XorPayOrder<NotifyUrl = ClientNotifyUrl>> NotifyUrlFromClient for O {}

/// An order whose `notify_url` comes from the client, with that URL attached.
#[derive(Debug)]
pub struct WithNotifyUrl<'a, O> {
    order: &'a O,
    notify_url: &'a str,
}

impl<O> Clone for WithNotifyUrl<'_, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for WithNotifyUrl<'_, O> {}

/// A request that has everything it needs to be signed, `notify_url` included.
pub trait Signable {
    /// The merchant's order type.
    type Order: XorPayOrder;

    /// The order.
    fn order(&self) -> &Self::Order;

    /// The `notify_url` from outside the order, if the order takes it from there.
    #[doc(hidden)]
    fn __client_notify_url(&self) -> Option<&str>;

    /// The signature of this request, computed without allocating.
    ///
    /// It is computed the same way as the one [`Signable::to_request`] puts in the body. A
    /// field whose `Display` gives different text on each call would make the two differ:
    /// the signature to send is always the one of the [`SignedRequest`].
    ///
    /// # Errors
    /// A [`RequestError`] for a value XorPay would refuse.
    fn signature(&self, secret: &AppSecret) -> Result<Signature, RequestError> {
        visitors::signature(self.order(), self.__client_notify_url(), secret)
    }

    /// The form body, signature included, ready to be sent.
    ///
    /// # Errors
    /// A [`RequestError`] for a value XorPay would refuse: an empty signed value (the name,
    /// the order id, …), a failing `Display`, a `notify_url` that is not an absolute
    /// http(s) URL, an `expire` of zero.
    fn to_request(&self, secret: &AppSecret) -> Result<SignedRequest, RequestError> {
        visitors::signed_request(self.order(), self.__client_notify_url(), secret)
    }

    /// The signed values in their order, with where each came from and the secret redacted:
    /// what to look at when XorPay answers `sign_error`.
    fn explain_signature(&self) -> SignatureExplanation {
        explain::explain(self.order(), self.__client_notify_url())
    }
}

impl<O> Signable for O
where
    O: XorPayOrder,
    O::NotifyUrl: CarriesNotifyUrl,
{
    type Order = O;

    fn order(&self) -> &O {
        self
    }

    fn __client_notify_url(&self) -> Option<&str> {
        None
    }
}

impl<O: XorPayOrder<NotifyUrl = ClientNotifyUrl>> Signable for WithNotifyUrl<'_, O> {
    type Order = O;

    fn order(&self) -> &O {
        self.order
    }

    fn __client_notify_url(&self) -> Option<&str> {
        Some(self.notify_url)
    }
}
