//! Where an order's `notify_url` comes from: the order itself (a field, or a constant on the
//! struct) or the service. The two are types, so that an order without a URL of its own
//! cannot be signed until one is attached.

mod sealed {
    pub trait Sealed {}
}

/// Where an order's `notify_url` comes from. Sealed: [`OwnNotifyUrl`] or
/// [`ClientNotifyUrl`].
pub trait NotifyUrlSource: sealed::Sealed {}

/// The order carries its own `notify_url`, in a field or as a constant on the struct.
#[derive(Debug)]
pub enum OwnNotifyUrl {}

/// The order takes its `notify_url` from the client's configuration.
#[derive(Debug)]
pub enum ClientNotifyUrl {}

impl sealed::Sealed for OwnNotifyUrl {}
impl sealed::Sealed for ClientNotifyUrl {}
impl NotifyUrlSource for OwnNotifyUrl {}
impl NotifyUrlSource for ClientNotifyUrl {}

/// Implemented only by [`OwnNotifyUrl`]: an order of this sort can be signed on its own.
#[diagnostic::on_unimplemented(
    message = "this order cannot be signed on its own: it takes its notify_url from the client",
    label = "declared with `#[xorpay(notify_url = from_client)]`",
    note = "attach the URL first with `order.with_notify_url(url)` (trait `NotifyUrlFromClient`), or check the order out through `Payments`, which attaches its own"
)]
pub trait CarriesNotifyUrl: NotifyUrlSource {}

impl CarriesNotifyUrl for OwnNotifyUrl {}
