//! Refunding a stored order: the protocol that keeps "refund never above paid" and "a refund
//! XorPay made is never lost" (feature `client`).
//!
//! XorPay has no refund query, so a refund whose answer is lost can only be settled by a
//! person reading the merchant dashboard. [`refund`] therefore records the refund as in doubt
//! *before* sending it, with the store's compare-and-set (of two copies read at once only one
//! can), sends it once, and records XorPay's answer; without a clear answer it stays in doubt,
//! counted against what is left, until [`resolve`] settles it.

use time::OffsetDateTime;

use super::{OrderStore, StoreError, Transition};
use crate::client::{Client, ClientError};
use crate::order::{Order, Paid, RefundLimit, StoredOrder};
use crate::price::Price;

/// How often a refund reads the order again when another writer changed it meanwhile.
const TRIES: usize = 3;

/// What became of a refund XorPay was asked for and did not refuse.
#[derive(Debug)]
pub enum RefundOutcome {
    /// XorPay made it; recorded.
    Made,
    /// XorPay's answer did not come (the error says how): it may or may not have been made.
    /// It stays counted as in doubt until [`resolve`]d from XorPay's dashboard.
    InDoubt(ClientError),
}

/// Why a refund was not asked for, or not recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefundError {
    /// No order with this number is stored.
    #[error("no stored order {0:?}")]
    UnknownOrder(String),
    /// The order is not paid.
    #[error("order {order_id:?} is {state}, not paid: nothing to refund")]
    NotPaid {
        /// The order number.
        order_id: String,
        /// Its state.
        state: &'static str,
    },
    /// Over XorPay's limits, or another refund is in doubt; nothing was sent.
    #[error(transparent)]
    Limit(#[from] RefundLimit),
    /// XorPay refused it; recorded as not made.
    #[error("xorpay refused the refund: {0}")]
    Refused(ClientError),
    /// Another writer kept changing the order; nothing was sent. Try again.
    #[error("order {0:?} changed while the refund was being recorded; nothing was sent")]
    Contended(String),
    /// The refund was sent, but its outcome could not be recorded, because the order changed
    /// meanwhile (its refund in doubt was resolved by hand while the request was under way).
    /// Compare XorPay's dashboard with the order now.
    #[error(
        "order {order_id:?}: xorpay answered the refund ({made}), but the order changed \
         meanwhile and the answer was not recorded: check xorpay's dashboard"
    )]
    OutcomeNotRecorded {
        /// The order number.
        order_id: String,
        /// What XorPay answered: `"made"` or `"refused"`.
        made: &'static str,
    },
    /// The store failed. If the refund was already recorded in doubt, it stays so.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refunds `amount` of the stored paid order `order_id`: records it in doubt, sends it once,
/// records XorPay's answer; without a clear answer it stays in doubt until [`resolve`]d.
///
/// # Errors
/// [`RefundError`]. Only [`RefundError::Refused`] and [`RefundError::OutcomeNotRecorded`]
/// mean XorPay was asked.
pub async fn refund<O, S>(
    store: &S,
    client: &Client,
    order_id: &str,
    amount: Price,
    now: OffsetDateTime,
) -> Result<RefundOutcome, RefundError>
where
    S: OrderStore<O>,
{
    let (mut order, ticket) = 'recorded: {
        for _ in 0..TRIES {
            let mut order = load_paid(store, order_id).await?;
            let ticket = order.begin_refund(amount, now)?;
            if store.update_paid(&mut order).await? == Transition::Applied {
                break 'recorded (order, ticket);
            }
        }
        return Err(RefundError::Contended(order_id.to_owned()));
    };
    let began = order.refund_in_doubt_since();
    // On a clear answer `send_refund` settles the copy's refund in doubt; otherwise the copy
    // stays as saved, in doubt.
    match client.send_refund(&mut order, ticket).await {
        Err(error) if error.outcome_unknown() => Ok(RefundOutcome::InDoubt(error)),
        Ok(()) => {
            record_outcome(store, order, amount, began, true).await?;
            Ok(RefundOutcome::Made)
        }
        Err(error) => {
            record_outcome(store, order, amount, began, false).await?;
            Err(RefundError::Refused(error))
        }
    }
}

/// Saves XorPay's answer to the refund begun at `began`. When another writer changed the
/// order since the refund was recorded, the answer is applied to the order as it now is, if
/// that refund is still in doubt there.
async fn record_outcome<O, S: OrderStore<O>>(
    store: &S,
    mut order: Order<O, Paid>,
    amount: Price,
    began: Option<OffsetDateTime>,
    made: bool,
) -> Result<(), RefundError> {
    let order_id = order.order_id().to_owned();
    for _ in 0..TRIES {
        if store.update_paid(&mut order).await? == Transition::Applied {
            return Ok(());
        }
        order = load_paid(store, &order_id).await?;
        let still_in_doubt =
            order.refund_in_doubt() == Some(amount) && order.refund_in_doubt_since() == began;
        if !still_in_doubt {
            break;
        }
        order.resolve_refund_in_doubt(made);
    }
    let made = if made { "made" } else { "refused" };
    tracing::error!(
        order_id,
        made,
        "refund answered but its outcome could not be recorded"
    );
    Err(RefundError::OutcomeNotRecorded { order_id, made })
}

/// Why a refund in doubt was not resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No order with this number is stored, or it is not paid.
    #[error(transparent)]
    Order(#[from] RefundError),
    /// The order has no refund in doubt begun at that time: it was resolved already, or the
    /// page showing it is stale.
    #[error("order {0:?} has no such refund in doubt (resolved already, or the page is stale)")]
    NoSuchRefund(String),
    /// The request that sends the refund may still be under way, so XorPay's dashboard
    /// showing no refund proves nothing yet. Try again after `after`.
    #[error("the refund may still be under way: resolve it after {after}")]
    TooEarly {
        /// When it can be resolved.
        after: OffsetDateTime,
    },
    /// Another writer changed the order meanwhile; reload and try again.
    #[error("order {0:?} changed meanwhile: reload and try again")]
    Changed(String),
}

/// Settles the refund in doubt of order `order_id` that began at `began` (its
/// [`Order::refund_in_doubt_since`], which ties the decision to that one refund), as XorPay's
/// merchant dashboard shows it: `made` or not. Refused while the request that sent it may
/// still be under way (the client's timeout after it began, and a few seconds more).
///
/// # Errors
/// [`ResolveError`]; nothing changed.
pub async fn resolve<O, S>(
    store: &S,
    client: &Client,
    order_id: &str,
    began: OffsetDateTime,
    made: bool,
    now: OffsetDateTime,
) -> Result<(), ResolveError>
where
    S: OrderStore<O>,
{
    let mut order = load_paid(store, order_id).await?;
    if order.refund_in_doubt().is_none() || order.refund_in_doubt_since() != Some(began) {
        return Err(ResolveError::NoSuchRefund(order_id.to_owned()));
    }
    let after = began + client.timeout() + RESOLVE_MARGIN;
    if now < after {
        return Err(ResolveError::TooEarly { after });
    }
    order.resolve_refund_in_doubt(made);
    match store
        .update_paid(&mut order)
        .await
        .map_err(RefundError::from)?
    {
        Transition::Applied => Ok(()),
        Transition::NotApplied => Err(ResolveError::Changed(order_id.to_owned())),
    }
}

/// Beyond the client's timeout, how long a refund in doubt waits before it may be resolved
/// by hand: the time between a request ending and its answer being saved.
const RESOLVE_MARGIN: core::time::Duration = core::time::Duration::from_secs(2);

async fn load_paid<O, S: OrderStore<O>>(
    store: &S,
    order_id: &str,
) -> Result<Order<O, Paid>, RefundError> {
    match store.load(order_id).await? {
        Some(StoredOrder::Paid(order)) => Ok(order),
        Some(other) => Err(RefundError::NotPaid {
            order_id: order_id.to_owned(),
            state: other.state_name(),
        }),
        None => Err(RefundError::UnknownOrder(order_id.to_owned())),
    }
}
