//! One refund of a paid order, as recorded: its key, amount and where it stands.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::price::Price;

/// One refund asked of XorPay for a paid order, under the merchant's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    key: String,
    amount: Price,
    state: RefundState,
    #[serde(with = "time::serde::rfc3339")]
    requested_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    settled_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundState {
    /// Asked, and not known to be made or not: counted as made against what is left.
    InDoubt,
    /// XorPay made it.
    Made,
    /// XorPay refused it, or it was resolved as not made from the merchant dashboard.
    NotMade,
}

impl Refund {
    /// The merchant's key for it: a repeated request with this key finds this refund.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The amount asked for.
    pub fn amount(&self) -> Price {
        self.amount
    }

    /// Where it stands.
    pub fn state(&self) -> RefundState {
        self.state
    }

    /// When it was asked for: while the request may still be under way after this (the
    /// client's timeout), XorPay's dashboard showing no refund proves nothing.
    pub fn requested_at(&self) -> OffsetDateTime {
        self.requested_at
    }

    /// When it was settled (made or not made).
    pub fn settled_at(&self) -> Option<OffsetDateTime> {
        self.settled_at
    }

    /// Why it was not made: XorPay's refusal, or that it was resolved by hand.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

impl Refund {
    /// A refund just asked for: in doubt until XorPay's answer is recorded.
    pub(super) fn in_doubt(key: &str, amount: Price, requested_at: OffsetDateTime) -> Refund {
        Refund {
            key: key.to_owned(),
            amount,
            state: RefundState::InDoubt,
            requested_at,
            settled_at: None,
            note: None,
        }
    }

    /// Records how it ended at `now`: made, or not made and why.
    pub(super) fn settle(&mut self, made: Result<(), String>, now: OffsetDateTime) {
        match made {
            Ok(()) => self.state = RefundState::Made,
            Err(note) => {
                self.state = RefundState::NotMade;
                self.note = Some(note);
            }
        }
        self.settled_at = Some(now);
    }
}
