//! Magic amounts: prices that make the sandbox take one of XorPay's unhappy paths, as
//! Stripe's test card numbers do, so that a merchant's own tests reach them through their
//! normal checkout and refund code, without the faults API. On only when the sandbox is
//! started with them (`.magic_amounts(true)`, `xorpay sandbox --magic-amounts`); any other
//! price, and every price when they are off, behaves as usual.
//!
//! Each amount reads as the HTTP status it stands for:
//!
//! | price | what the sandbox does |
//! |---|---|
//! | `4.02` | the payer pays, but XorPay cannot take its fee: the order becomes `fee_error` and no notification is sent |
//! | `4.08` | the order is created, and has expired at once: queries say `expire`, and it cannot be paid |
//! | `5.04` | the order is created, and the answer is lost: the connection closes without one (a retry with the same parameters gets the same order, and its answer) |
//! | `4.09` | the notification is delivered twice, the second an identical copy |
//! | `4.03` | a refund of the order is refused with `order_error`, nothing refunded |
//! | `5.02` | a refund of the order is made, and the answer is lost: the connection closes without one |

use serde::{Deserialize, Serialize};

/// One magic amount: what it makes the sandbox do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MagicAmount {
    /// `4.02`: paying makes the order `fee_error`; no notification.
    FeeErrorOnPayment,
    /// `4.08`: created already expired.
    ExpiresAtOnce,
    /// `5.04`: created, the answer lost (once per order).
    CreateAnswerLost,
    /// `4.09`: the notification delivered twice.
    NotifiedTwice,
    /// `4.03`: every refund refused with `order_error`.
    RefundRefused,
    /// `5.02`: every refund made, its answer lost.
    RefundAnswerLost,
}

impl MagicAmount {
    /// Every magic amount, in the order of the table.
    pub const ALL: [MagicAmount; 6] = [
        MagicAmount::FeeErrorOnPayment,
        MagicAmount::ExpiresAtOnce,
        MagicAmount::CreateAnswerLost,
        MagicAmount::NotifiedTwice,
        MagicAmount::RefundRefused,
        MagicAmount::RefundAnswerLost,
    ];

    /// The price, in fen, that stands for it.
    pub const fn fen(self) -> u64 {
        match self {
            MagicAmount::FeeErrorOnPayment => 402,
            MagicAmount::ExpiresAtOnce => 408,
            MagicAmount::CreateAnswerLost => 504,
            MagicAmount::NotifiedTwice => 409,
            MagicAmount::RefundRefused => 403,
            MagicAmount::RefundAnswerLost => 502,
        }
    }

    /// The magic amount of an order of `fen`, if it is one.
    pub fn of(fen: u64) -> Option<MagicAmount> {
        MagicAmount::ALL
            .into_iter()
            .find(|magic| magic.fen() == fen)
    }
}

/// Marks a response whose answer must be lost: the route acted, and the connection closes
/// without a response (as a route's `AnswerLost` fault does).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LoseAnswer;
