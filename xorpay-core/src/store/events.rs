//! What a store keeps of the events the merchant's hook is told of beyond a payment (an order
//! expired for good, a refund made or not made, an order needing a person): one row per event,
//! written in the same transaction as the change that caused it, and claimed, finished or
//! released like a fulfilment ([`OrderStore::claim_event`](super::OrderStore::claim_event)).
//!
//! A paid order's fulfilment is not among them: it is kept on the order's own row (its
//! `fulfilled_at` and claim), so that recording a payment stays one write of one row.

use core::time::Duration;

use time::OffsetDateTime;

/// An event to record with a [`Change`](super::Change), if the change applies. An event is
/// recorded once: one already recorded with the same order, kind and subject is kept as it
/// is (done or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent<'a> {
    /// What happened, as the service names it (`expired`, `refund_made`, `refund_not_made`,
    /// `refund_in_doubt`, `fee_error`, `aoid_unknown`); at most 32 ASCII bytes.
    pub kind: &'a str,
    /// What it is about within the order (a refund, an attempt), or empty; at most 255
    /// bytes.
    pub subject: &'a str,
    /// When it may be handed to the hook (the service's clock).
    pub due: OffsetDateTime,
}

/// A recorded event, as claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The order it is about.
    pub order_id: String,
    /// What happened (see [`NewEvent::kind`]).
    pub kind: String,
    /// What it is about within the order (see [`NewEvent::subject`]).
    pub subject: String,
    /// When it became due.
    pub due: OffsetDateTime,
}

/// A request for the next event due: one not done, due at `now` (the service's clock), whose
/// claim is free or whose lease has ended, claimed for `lease` (the database's clock) under
/// `token`. The one due earliest is claimed first.
#[derive(Debug, Clone, Copy)]
pub struct EventClaim<'a> {
    /// Now, on the service's clock: events due later are left.
    pub now: OffsetDateTime,
    /// The claimer's token, unique per claim.
    pub token: &'a str,
    /// How long the claim is exclusive, on the database's clock.
    pub lease: Duration,
}
