//! A faithful local XorPay: every endpoint of XorPay's HTTP API, checked as XorPay checks it,
//! with order states, signed notifications and their retries, and fault injection.
//!
//! XorPay has no sandbox. This crate is one: a second, independent implementation of the
//! server side of the protocol (`PROTOCOL.md` in the repository, cited by section), so that a
//! merchant, and this project's own tests, can run the whole payment flow offline. It shares
//! nothing with the client but the `Price` type: it verifies and signs with its own MD5 code
//! over the raw strings it receives, and parses forms with its own parser.
//!
//! # Use it from tests
//!
//! ```no_run
//! use std::time::Duration;
//! use xorpay_sandbox::{OrderState, Sandbox};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = Sandbox::builder()
//!     .aid("1000")
//!     .secret("0123456789abcdef0123456789abcdef")
//!     .retry_unit(Duration::from_millis(10)) // XorPay's minutes, compressed
//!     .start() // 127.0.0.1 on an ephemeral port
//!     .await?;
//! // Point the client at sandbox.base_url() instead of https://xorpay.com, create an order,
//! // then let the payer pay it:
//! # let aoid = "";
//! sandbox.pay(aoid).await?;
//! let order = sandbox
//!     .wait_for(aoid, Duration::from_secs(5), |o| o.state == OrderState::Success)
//!     .await;
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Or as a program
//!
//! ```text
//! cargo run -p xorpay-sandbox -- --listen 127.0.0.1:8899 --aid 1000 --secret SECRET
//! ```
//!
//! prints `listening on http://127.0.0.1:8899` once it accepts connections and runs until
//! killed; `--help` lists every setting.
//!
//! # Routes
//!
//! XorPay's: `POST /api/pay/{aid}`, `GET|POST /api/cashier/{aid}`,
//! `POST /api/barcode_pay/{aid}`, `GET /api/openid/{aid}`, `GET /api/query/{aoid}`,
//! `GET /api/query2/{aid}`, `POST /api/refund/{aoid}`, `GET /qr`. Parameters come from the
//! query string and the form body, the body winning. Business errors are HTTP 200 with
//! `{"status": "<code>"}`.
//!
//! The sandbox's own, under `/_sandbox/`: `POST /_sandbox/orders/{aoid}/pay` (the payer
//! pays), `GET /_sandbox/orders` and `GET /_sandbox/orders/{aoid}` (JSON with states, refunds
//! and every delivery attempt), fault configuration (`/_sandbox/faults`,
//! `/_sandbox/orders/{aoid}/fault`), `POST /_sandbox/clock/advance`, `/_sandbox/merchant`,
//! and `GET /_sandbox/jsbridge.js`, a stand-in for WeChat's `WeixinJSBridge` that completes
//! JSAPI payments in a desktop browser.
//!
//! # Behaviour the protocol leaves open (documented choices)
//!
//! - **Validation order**: aid → `app_off` → missing arguments → `pay_type` → signature →
//!   values → openid → order-id rules → fee.
//! - **Malformed `price`** (not a positive amount with at most two decimals) or `expire` (not
//!   a positive integer): `missing_argument`, checked after the signature.
//! - **Signatures**: hex in either case by default; [`SandboxBuilder::strict_lowercase_sign`]
//!   refuses uppercase.
//! - **Order-id reuse**: same parameters (all of them) → the same order and answer; different
//!   → `order_exist`; paid → `order_payed`; expired → `order_expire`.
//! - **Fee**: `ceil(price × rate / 10000)` fen, at least 1 fen (none at rate 0), 100 basis
//!   points by default. Creating needs `balance ≥ fee` (else `fee_error`); paying deducts it,
//!   and an order paid when the balance is short becomes `fee_error` and is not notified.
//! - **Refunds**: only from `success`; the running total may not exceed the amount paid
//!   (`price_error`); the 51st refund gets `order_error`; a refund leaves the state
//!   `success`.
//! - **Barcode**: `wechat_barcode` codes are 18 digits starting 10–15, `alipay_barcode` codes
//!   16–24 digits starting 25–30, anything else gets `AUTH_CODE_INVALID` and creates nothing;
//!   a valid code ending in `0000` answers `new` (pay it through the sandbox), any other is
//!   paid at once (`success`).
//! - **Notifications**: HTTP 200 acknowledges; 7 attempts with gaps of 1, 2, 4, 16, 64, 300
//!   units between them; all failed → the order stays `payed`. `pay_price` has two decimals.
//! - **Faults**: see [`faults`]. An HTML error is HTTP 502 with nginx's page; a route fault
//!   applies once, `n` times or always.
//! - **Expiry**: on the sandbox clock, which [`Sandbox::advance_clock`] moves forward.
//!
//! Everything listens on loopback only; the secret is never logged.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod admin;
mod clock;
pub mod faults;
mod ids;
mod ledger;
mod notify;
pub mod orders;
mod pages;
mod params;
mod qr;
mod routes;
mod server;
mod sign;

pub use faults::{FaultTimes, OrderFault, Route, RouteFault, RouteFaultRule};
pub use orders::{
    DeliveryAttempt, DeliveryState, NotificationKind, OrderKind, OrderState, OrderView, PayError,
    PaymentView, RefundRecord, UnknownOrder,
};
pub use server::{Sandbox, SandboxBuilder};
