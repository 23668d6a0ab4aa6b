//! Refunds: each under a key the merchant chooses, recorded in doubt before it is sent, sent
//! once, its answer recorded. XorPay has no refund query, so a refund whose answer is lost
//! stays in doubt (counted against what is left) until a person settles it from the merchant
//! dashboard ([`Payments::resolve_refund`]).

use time::OffsetDateTime;

use super::record::update_paid;
use super::{Payments, ServiceOrder};
use crate::client::ClientError;
use crate::order::{
    ConfirmError, Order, Paid, Refund, RefundEnd, RefundLimit, RefundState, StoredOrder,
};
use crate::price::Price;
use crate::response::Aoid;
use crate::store::{OrderStore, StoreError, Transition};

/// How often a refund reads the order again when another writer changed it meanwhile.
const TRIES: usize = 3;

/// What became of a refund XorPay was asked for and did not refuse.
#[derive(Debug)]
pub enum RefundOutcome {
    /// XorPay made it; recorded.
    Made(Refund),
    /// XorPay's answer did not come: it may or may not have been made. It stays counted as
    /// in doubt until resolved from XorPay's dashboard ([`Payments::resolve_refund`]). The
    /// error says how the answer failed, when this request sent it.
    InDoubt(Refund, Option<ClientError>),
}

/// Why a refund was not made. Each says whether asking again with the same key is safe
/// ([`RefundError::is_safe_to_retry`]; with the same key it never refunds twice).
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
    /// Over XorPay's limits, another refund is in doubt, or the `aoid` is unknown; nothing
    /// was sent.
    #[error(transparent)]
    Limit(#[from] RefundLimit),
    /// The key names an earlier refund of another amount. Use a new key for a new refund.
    #[error("refund key {key:?} was used for a refund of {amount}: use a new key for a new refund")]
    KeyReused {
        /// The key.
        key: String,
        /// The amount of the refund that has it.
        amount: Price,
    },
    /// Not made: XorPay refused it (now, or when it was first asked with this key), or it
    /// was resolved as not made.
    #[error("refund {key:?} was not made: {reason}")]
    NotMade {
        /// The key.
        key: String,
        /// XorPay's refusal, or that it was resolved by hand.
        reason: String,
    },
    /// No connection to XorPay could be made: nothing was sent, and nothing is left recorded.
    /// Try again with the same key.
    #[error("refund {key:?} was not sent: {error}")]
    NotSent {
        /// The key.
        key: String,
        /// How the connection failed.
        error: ClientError,
    },
    /// Another writer kept changing the order; nothing was sent. Try again.
    #[error("order {0:?} changed while the refund was being recorded; nothing was sent")]
    Contended(String),
    /// The refund was sent, but its outcome could not be recorded (the order kept changing).
    /// Compare XorPay's dashboard with the order, and resolve it.
    #[error(
        "order {order_id:?}: xorpay answered the refund ({made}), but the answer was not recorded: check xorpay's dashboard"
    )]
    OutcomeNotRecorded {
        /// The order number.
        order_id: String,
        /// What XorPay answered: `"made"` or `"not made"` (or that it was `"not sent"`).
        made: &'static str,
    },
    /// The store failed. If the refund was already recorded in doubt, it stays so.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RefundError {
    /// Whether asking again with the same order, amount and key is safe and may succeed.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(
            self,
            RefundError::NotSent { .. } | RefundError::Contended(_) | RefundError::Store(_)
        )
    }
}

/// Why a refund in doubt was not resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// No order with this number is stored, or it is not paid.
    #[error(transparent)]
    Order(RefundError),
    /// The order has no refund in doubt with this key: resolved already, or never asked.
    #[error(
        "order {order_id:?} has no refund {key:?} in doubt (resolved already, or the page is stale)"
    )]
    NoSuchRefund {
        /// The order number.
        order_id: String,
        /// The key.
        key: String,
    },
    /// The request that sent the refund may still be under way, so XorPay's dashboard
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

impl From<StoreError> for ResolveError {
    fn from(error: StoreError) -> ResolveError {
        ResolveError::Order(RefundError::Store(error))
    }
}

impl<O: ServiceOrder, S: OrderStore> Payments<O, S> {
    /// Refunds `amount` of the paid order `order_id`, under the merchant's `key` (a refund
    /// request's id, say): recorded in doubt before it is sent, sent once, the answer
    /// recorded. Asking again with the same key (a double click, a retried request) returns
    /// the first request's outcome and never refunds twice. At most one refund per order
    /// is in doubt at a time.
    ///
    /// # Errors
    /// [`RefundError`]. A refusal by XorPay is [`RefundError::NotMade`], and recorded.
    pub async fn refund(
        &self,
        order_id: &str,
        amount: Price,
        key: &str,
    ) -> Result<RefundOutcome, RefundError> {
        let store = &self.inner.store;
        let (mut order, ticket) = 'recorded: {
            for _ in 0..TRIES {
                let mut order = self.load_paid(order_id).await?;
                if let Some(refund) = order.refund(key) {
                    return repeat(refund, amount);
                }
                let ticket = order.begin_refund(key, amount, self.now())?;
                if update_paid(store, &mut order, self.now()).await? == Transition::Applied {
                    break 'recorded (order, ticket);
                }
            }
            return Err(RefundError::Contended(order_id.to_owned()));
        };
        // `send_refund` refuses a ticket that was not recorded: this one was, just above.
        match self.inner.client.send_refund(&order, ticket).await {
            Err(error) if error.outcome_unknown() => {
                let refund = order.refund(key).cloned();
                Ok(RefundOutcome::InDoubt(
                    refund.ok_or_else(|| RefundError::Contended(order_id.to_owned()))?,
                    Some(error),
                ))
            }
            Ok(()) => {
                self.record(&mut order, key, RefundEnd::Made).await?;
                order
                    .refund(key)
                    .cloned()
                    .map(RefundOutcome::Made)
                    .ok_or_else(|| RefundError::Contended(order_id.to_owned()))
            }
            Err(error @ ClientError::Unreachable { .. }) => {
                self.record(&mut order, key, RefundEnd::NotSent).await?;
                Err(RefundError::NotSent {
                    key: key.to_owned(),
                    error,
                })
            }
            Err(error) => {
                let reason = format!("xorpay refused it: {error}");
                let end = RefundEnd::NotMade(reason.clone());
                self.record(&mut order, key, end).await?;
                Err(RefundError::NotMade {
                    key: key.to_owned(),
                    reason,
                })
            }
        }
    }

    /// Saves how the refund `key` ended. When another writer changed the order since the
    /// refund was recorded, the end is applied to the order as it now is, if that refund is
    /// still in doubt there.
    async fn record(
        &self,
        order: &mut Order<O, Paid>,
        key: &str,
        end: RefundEnd,
    ) -> Result<(), RefundError> {
        let order_id = order.order_id().to_owned();
        for _ in 0..TRIES {
            if order.resolve_refund(key, end.clone(), self.now())
                && update_paid(&self.inner.store, order, self.now()).await? == Transition::Applied
            {
                return Ok(());
            }
            *order = self.load_paid(&order_id).await?;
            if order.refund(key).map(Refund::state) != Some(RefundState::InDoubt) {
                break;
            }
        }
        let made = match end {
            RefundEnd::Made => "made",
            RefundEnd::NotMade(_) => "not made",
            RefundEnd::NotSent => "not sent",
        };
        tracing::error!(
            order_id,
            key,
            made,
            "refund answered but its outcome could not be recorded"
        );
        Err(RefundError::OutcomeNotRecorded { order_id, made })
    }

    /// Settles the refund `key` of order `order_id`, in doubt, as XorPay's merchant
    /// dashboard shows it: `made` or not. Refused until [`PaymentsConfig`]'s
    /// `refund_resolve_after` has passed since it was asked: until then XorPay may still be
    /// making it, and its dashboard showing no refund proves nothing.
    ///
    /// [`PaymentsConfig`]: super::PaymentsConfig
    ///
    /// # Errors
    /// [`ResolveError`]; nothing changed.
    pub async fn resolve_refund(
        &self,
        order_id: &str,
        key: &str,
        made: bool,
    ) -> Result<(), ResolveError> {
        let mut order = self
            .load_paid(order_id)
            .await
            .map_err(ResolveError::Order)?;
        let Some(refund) = order
            .refund(key)
            .filter(|r| r.state() == RefundState::InDoubt)
        else {
            return Err(ResolveError::NoSuchRefund {
                order_id: order_id.to_owned(),
                key: key.to_owned(),
            });
        };
        let wait =
            time::Duration::try_from(self.inner.resolve_after).unwrap_or(time::Duration::MAX);
        let after = refund.requested_at() + wait;
        let now = self.now();
        if now < after {
            return Err(ResolveError::TooEarly { after });
        }
        let end = match made {
            true => RefundEnd::Made,
            false => RefundEnd::NotMade("resolved as not made from xorpay's dashboard".to_owned()),
        };
        order.resolve_refund(key, end, now);
        match update_paid(&self.inner.store, &mut order, now).await? {
            Transition::Applied => Ok(()),
            Transition::NotApplied => Err(ResolveError::Changed(order_id.to_owned())),
        }
    }

    /// Records the `aoid` of a paid order that only a query proved paid, as read on XorPay's
    /// merchant dashboard: when every notification failed (XorPay gives up after about 6.5
    /// hours), nothing else tells it, and refunds need it.
    ///
    /// # Errors
    /// [`ResolveError::Order`] for an unknown or unpaid order; [`ResolveError::Changed`] when
    /// another writer changed it meanwhile.
    pub async fn record_aoid(&self, order_id: &str, aoid: Aoid) -> Result<(), RecordAoidError> {
        let mut order = self.load_paid(order_id).await?;
        order.record_aoid(aoid)?;
        match update_paid(&self.inner.store, &mut order, self.now()).await? {
            Transition::Applied => Ok(()),
            Transition::NotApplied => Err(RecordAoidError::Changed(order_id.to_owned())),
        }
    }

    async fn load_paid(&self, order_id: &str) -> Result<Order<O, Paid>, RefundError> {
        match self.order(order_id).await? {
            Some(StoredOrder::Paid(order)) => Ok(order),
            Some(other) => Err(RefundError::NotPaid {
                order_id: order_id.to_owned(),
                state: other.state_name(),
            }),
            None => Err(RefundError::UnknownOrder(order_id.to_owned())),
        }
    }
}

/// A repeated request with a key already used: the first request's outcome.
fn repeat(refund: &Refund, amount: Price) -> Result<RefundOutcome, RefundError> {
    if refund.amount() != amount {
        return Err(RefundError::KeyReused {
            key: refund.key().to_owned(),
            amount: refund.amount(),
        });
    }
    match refund.state() {
        RefundState::Made => Ok(RefundOutcome::Made(refund.clone())),
        RefundState::InDoubt => Ok(RefundOutcome::InDoubt(refund.clone(), None)),
        _ => Err(RefundError::NotMade {
            key: refund.key().to_owned(),
            reason: refund.note().unwrap_or("not made").to_owned(),
        }),
    }
}

/// Why an `aoid` was not recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordAoidError {
    /// No such order, or not paid.
    #[error(transparent)]
    Order(#[from] RefundError),
    /// The order already knows another `aoid`.
    #[error(transparent)]
    Mismatch(#[from] ConfirmError),
    /// Another writer changed the order meanwhile; reload and try again.
    #[error("order {0:?} changed meanwhile: reload and try again")]
    Changed(String),
}

impl From<StoreError> for RecordAoidError {
    fn from(error: StoreError) -> RecordAoidError {
        RecordAoidError::Order(RefundError::Store(error))
    }
}
