//! What the sandbox shows about its orders: the JSON view of `GET /_sandbox/orders` and the
//! values [`crate::Sandbox::order`] returns.
//!
//! These are snapshots, copied out of the sandbox's books; changing one changes nothing. The
//! books themselves, and every rule that moves an order between states, live in the private
//! `ledger` module.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::faults::OrderFault;

/// The state of an order, exactly as XorPay's query endpoints name it (docs/protocol.md §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderState {
    /// `new`: created, not paid.
    New,
    /// `payed` (sic): paid, the notification not yet acknowledged.
    Payed,
    /// `success`: paid and the notification acknowledged with HTTP 200.
    Success,
    /// `expire`: `expire` seconds passed before it was paid.
    Expire,
    /// `fee_error`: paid, but the merchant's balance could not cover XorPay's fee; the
    /// notification is held back.
    FeeError,
}

impl OrderState {
    /// The wire code, e.g. `"payed"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            OrderState::New => "new",
            OrderState::Payed => "payed",
            OrderState::Success => "success",
            OrderState::Expire => "expire",
            OrderState::FeeError => "fee_error",
        }
    }

    /// Whether the payer has paid (`payed`, `success` or `fee_error`).
    pub const fn is_paid(self) -> bool {
        matches!(
            self,
            OrderState::Payed | OrderState::Success | OrderState::FeeError
        )
    }
}

/// Which endpoint created an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OrderKind {
    /// `/api/pay/{aid}`: native, jsapi (including mini programs) or alipay.
    Pay,
    /// `/api/cashier/{aid}`: XorPay's own payment page.
    Cashier,
    /// `/api/barcode_pay/{aid}`: the merchant scanned the payer's code.
    Barcode,
}

/// A snapshot of one order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OrderView {
    /// XorPay's order id: 32 lowercase hex characters.
    pub aoid: String,
    /// The merchant whose order it is.
    pub aid: String,
    /// The endpoint that created it.
    pub kind: OrderKind,
    /// The merchant's order number.
    pub order_id: String,
    /// The product name.
    pub name: String,
    /// The `pay_type` as sent.
    pub pay_type: String,
    /// The `price` exactly as the merchant sent (and signed) it, e.g. `"1"` or `"50.00"`.
    pub price: String,
    /// The same amount in fen.
    pub price_fen: u64,
    /// Where notifications go.
    pub notify_url: String,
    /// `order_uid`, if sent.
    pub order_uid: Option<String>,
    /// `more`, if sent; echoed in the notification.
    pub more: Option<String>,
    /// The payer's openid: the one sent for a JSAPI order, or the one the cashier obtained.
    pub openid: Option<String>,
    /// The payment code of a barcode order.
    pub barcode: Option<String>,
    /// `return_url`, if sent (JSAPI and cashier).
    pub return_url: Option<String>,
    /// `cancel_url`, if sent (cashier).
    pub cancel_url: Option<String>,
    /// The current state.
    pub state: OrderState,
    /// Creation time, China time (`YYYY-MM-DD HH:MM:SS`), on the sandbox's clock.
    pub created_at: String,
    /// When an unpaid order expires, China time, on the sandbox's clock; `None` if it never
    /// does (a lifetime past anything the system clock can hold). Times after the year 9999
    /// show as `9999-12-31 23:59:59`.
    pub expires_at: Option<String>,
    /// The lifetime in seconds, as answered in `expires_in`.
    pub expires_in: u64,
    /// `info` as answered: `{"qr": …}` or the six JSAPI fields; `null` for barcode orders.
    pub info: serde_json::Value,
    /// The payment, once paid.
    pub payment: Option<PaymentView>,
    /// Refunds so far, oldest first.
    pub refunds: Vec<RefundRecord>,
    /// The sum of the refunds, in fen.
    pub refunded_fen: u64,
    /// The fault injected into this order's notification, if any.
    pub fault: Option<OrderFault>,
    /// Where notification delivery stands.
    pub delivery: DeliveryState,
    /// Every notification request made for this order, in the order they completed.
    pub deliveries: Vec<DeliveryAttempt>,
}

/// A payment, as the notification reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentView {
    /// `pay_price`: the amount with two decimals, e.g. `"50.00"`.
    pub pay_price: String,
    /// `pay_time`: `YYYY-MM-DD HH:MM:SS`, China time.
    pub pay_time: String,
    /// `detail`: JSON text with `transaction_id`, `bank_type` and `buyer`.
    pub detail: String,
    /// XorPay's fee taken from the merchant's balance, in fen (0 for a `fee_error` order).
    pub fee_fen: u64,
}

/// One accepted refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundRecord {
    /// The `price` as sent.
    pub price: String,
    /// The amount in fen.
    pub fen: u64,
    /// When, China time, on the sandbox's clock.
    pub at: String,
}

/// Where the notification delivery of an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryState {
    /// Not paid yet: nothing to deliver.
    NotStarted,
    /// Attempts are being made or waited for.
    InProgress,
    /// A genuine notification got HTTP 200; the order is `success`.
    Acknowledged,
    /// All 7 attempts failed; the order stays `payed`.
    GaveUp,
    /// The order is `fee_error`: no notification is sent.
    HeldBack,
}

/// What a notification request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// The genuine notification.
    Genuine,
    /// The second, identical copy of [`OrderFault::Duplicate`].
    Duplicate,
    /// One of the identical copies of [`OrderFault::Concurrent`].
    Concurrent,
    /// A forgery: `pay_price` changed after signing.
    TamperedAmount,
    /// A forgery: signed with the wrong secret.
    TamperedSignature,
    /// An earlier request sent again on demand (`POST /_sandbox/deliveries/{id}/resend`,
    /// `xorpay resend`). Its answer changes nothing in the order's state.
    Resent,
}

impl NotificationKind {
    /// Whether this is XorPay's genuine notification (possibly one of several copies), whose
    /// acknowledgement counts.
    pub const fn is_genuine(self) -> bool {
        matches!(
            self,
            NotificationKind::Genuine | NotificationKind::Duplicate | NotificationKind::Concurrent
        )
    }
}

/// One notification request and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeliveryAttempt {
    /// The attempt in XorPay's schedule, 1 to 7. Copies and forgeries made by an
    /// [`OrderFault`] share attempt 1.
    pub attempt: u32,
    /// What was sent.
    pub kind: NotificationKind,
    /// When the request started, in milliseconds after the payment.
    pub offset_ms: u64,
    /// The form fields posted, decoded.
    pub fields: BTreeMap<String, String>,
    /// The HTTP status answered, if any.
    pub status: Option<u16>,
    /// Why there was no answer (connection refused or reset, timeout, …), or, after a status,
    /// why the body broke off. The status alone decides [`acknowledged`](Self::acknowledged).
    pub error: Option<String>,
    /// The start of the answer's body (at most [`DeliveryAttempt::BODY_EXCERPT`] bytes, lossy
    /// UTF-8).
    pub body: String,
    /// Whether the receiver answered HTTP 200.
    pub acknowledged: bool,
}

impl DeliveryAttempt {
    /// How much of a response body is kept.
    pub const BODY_EXCERPT: usize = 512;
}

/// One notification request in the sandbox's delivery log (`GET /_sandbox/deliveries`), with
/// the order it was for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeliveryRecord {
    /// `AOID.N`: the order's aoid and the request's place among that order's requests, from
    /// 1. It names the request for a resend.
    pub id: String,
    /// The merchant whose order it is.
    pub aid: String,
    /// XorPay's order id.
    pub aoid: String,
    /// The merchant's order number.
    pub order_id: String,
    /// The request and what came of it.
    #[serde(flatten)]
    pub request: DeliveryAttempt,
}

/// Why the payer could not pay an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayError {
    /// No order has this aoid.
    #[error("no such order")]
    NotFound,
    /// The order is not `new`: already paid, or expired.
    #[error("the order cannot be paid in state {}", .0.as_str())]
    NotPayable(OrderState),
}

/// No order has this aoid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no such order")]
pub struct UnknownOrder;
