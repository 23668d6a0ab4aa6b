//! The runtime of [xorpay-rs](https://github.com/xorpay-rs/xorpay-rs): the protocol core of
//! XorPay, the aggregator through which small merchants in China accept WeChat Pay and Alipay.
//!
//! Most applications depend on the `xorpay` facade crate, which re-exports this one together
//! with `#[derive(XorPayOrder)]`, and need little more than `use xorpay::prelude::*;` and the
//! lifecycle service, `Payments`. The modules are organised by concept, each importing only
//! from those above it:
//!
//! - [`config`]: [`ConfigError`], a setting that is unusable.
//! - [`price`]: [`Price`], exact money in fen with one wire form.
//! - [`credentials`]: [`Aid`] and [`AppSecret`] (redacted, zeroized, not serialisable).
//! - [`sign`]: the MD5 signature formulas, allocation-free, with constant-time verification.
//! - [`pay_type`]: pay types, endpoints and the kinds of payment request.
//! - [`status`]: every XorPay status code, and [`ApiError`].
//! - [`form`]: the strict form decoder behind [`notify`].
//! - [`request`]: [`XorPayOrder`] (what the derive implements) and signing orders into
//!   requests.
//! - [`response`]: what XorPay gives back for an order: its [`Aoid`] and what the payer
//!   needs ([`JsapiParams`], a QR text, the cashier page).
//! - [`notify`]: strict parsing and verification of payment notifications.
//! - [`jsapi`]: the `WeixinJSBridge` page script.
//! - [`order`]: the typestate [`Order`] (`Created` → `Pending` → `Paid`, or `Expired`),
//!   refunds, and [`StoredOrder`], the way back from storage: the service's vocabulary.
//! - [`store`]: the durable order store contract; `SqliteStore` with feature `sqlite`,
//!   `PgStore` with feature `postgres`, `MySqlStore` with feature `mysql`.
//! - `client` (feature `client`, on by default): the HTTP client, public for the calls that
//!   move no money (queries, the openid redirect, QR images).
//! - `service` (feature `client`): `Payments`, the lifecycle service, the one door through
//!   which money moves: checkout, confirm, settle, refund, reconcile, fulfil.
//! - `axum` (feature `axum`): the router that serves the service's notify URL; `actix`
//!   (feature `actix-web`): the same as an actix-web resource; any other framework calls
//!   `Payments::answer` (body in; status and body out).
//! - `cli` (feature `cli`): the operator's command line, `cli::run(&payments)`, for a binary
//!   of the merchant's own.
//!
//! All protocol facts come from the protocol page (`docs/protocol.md` in the repository, the
//! `xorpay::protocol` page of these docs), cited by section.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

#[cfg(feature = "actix-web")]
pub mod actix;
#[cfg(feature = "cli")]
pub mod cli;
// Read by the client; without it, only `__private::check_answers` (fuzzing) calls it.
#[cfg_attr(not(feature = "client"), allow(dead_code))]
mod answers;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "client")]
pub mod client;
pub mod config;
pub mod credentials;
pub mod form;
mod hex;
pub mod html;
pub mod jsapi;
#[cfg(feature = "client")]
pub mod merchants;
#[cfg(feature = "client")]
pub mod metrics;
pub mod notify;
pub mod order;
pub mod pay_type;
pub mod payer;
pub mod price;
pub mod request;
pub mod response;
#[cfg(feature = "client")]
pub mod service;
pub mod sign;
pub mod status;
pub mod store;

/// The `time` crate, whose `OffsetDateTime` this API uses for payment and expiry times.
pub use time;

pub use config::ConfigError;
pub use credentials::{Aid, AppSecret};
pub use notify::{
    ExpectedPayment, Notification, NotificationError, PaymentDetail, PaymentMismatch, PaymentProof,
    VerifiedNotification,
};
pub use order::{Created, Expired, Order, Paid, Pending, StoredOrder};
pub use pay_type::{BarcodePayType, Endpoint, PayType, RequestKind};
pub use price::{AsPrice, Price, PriceError, WirePrice};
pub use request::{NotifyUrlFromClient, RequestError, Signable, SignedRequest, XorPayOrder};
pub use response::{Aoid, CashierPage, JsapiParams, PaymentInfo};
pub use sign::{Signature, SignatureError};
pub use status::{ApiError, OrderState, Retry};

#[cfg(feature = "client")]
pub use service::{
    Attention, Checkout, CheckoutError, Clock, Confirmed, Event, Hook, HookError, NotifyError,
    OrderError, Payments, RefundError,
};
#[cfg(feature = "mysql")]
pub use store::MySqlStore;
#[cfg(feature = "postgres")]
pub use store::PgStore;
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;

/// What the main path names: `use xorpay::prelude::*;` brings the service, its hook and
/// what it answers, the typed orders, the money type, the signing traits, and the stores of
/// the features that are on.
pub mod prelude {
    pub use crate::credentials::{Aid, AppSecret};
    pub use crate::order::{Expired, Order, Paid, Pending, StoredOrder};
    pub use crate::price::Price;
    pub use crate::request::{NotifyUrlFromClient, Signable, XorPayOrder};
    #[cfg(feature = "client")]
    pub use crate::service::{Checkout, Event, Hook, HookError, Payments};
    #[cfg(feature = "mysql")]
    pub use crate::store::MySqlStore;
    #[cfg(feature = "postgres")]
    pub use crate::store::PgStore;
    #[cfg(feature = "sqlite")]
    pub use crate::store::SqliteStore;
}

/// Support for code generated by `#[derive(XorPayOrder)]`. Not public API: it may change in
/// any release, which is why `xorpay` pins `xorpay-derive` to an exact version.
#[doc(hidden)]
pub mod __private;
