//! What makes a request one XorPay would refuse.

/// A request that cannot be built: XorPay would refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A signed value is empty; XorPay would answer `missing_argument`.
    #[error("`{field}` is empty; xorpay requires a value")]
    EmptyValue {
        /// The protocol name of the field.
        field: &'static str,
    },
    /// A field's `Display` implementation returned an error.
    #[error("`{field}` could not be formatted: its Display implementation failed")]
    Format {
        /// The protocol name of the field.
        field: &'static str,
    },
    /// A value is present but unusable.
    #[error("`{field}` is invalid: {reason}")]
    InvalidValue {
        /// The protocol name of the field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The order takes its `notify_url` from the client (`notify_url = from_client`), and
    /// the client has none.
    #[error(
        "this order takes its notify_url from the service (`notify_url = from_client`), and \
         none is set: set it with `Payments::builder().notify_url(…)`"
    )]
    NoClientNotifyUrl,
    /// The order carries a `notify_url` of its own that is not the service's: XorPay would
    /// post its notification where the service's notify route does not listen, and the
    /// order would stay pending.
    #[error(
        "the order's notify_url differs from the service's, so its notification would never \
         reach the service's notify route: declare the order `#[xorpay(notify_url = \
         from_client)]`, or give the service the same URL"
    )]
    NotifyUrlDiffers,
}

/// The longest order number accepted, in bytes. XorPay documents no limit; the payment
/// channels behind it take 32 (WeChat) and 64 (Alipay) characters, and a longer number is
/// almost always a bug.
pub const MAX_ORDER_ID: usize = 64;
