//! Refunds, each under a key the merchant chooses, as
//! [`guarantees::refund_in_doubt`](super::guarantees::refund_in_doubt) says.
//!
//! Each step takes the paid order as the merchant holds it, `&Order<O, Paid>`: the type is
//! the compile-time guard (a pending order cannot be refunded), and the step decides on the
//! order as stored now, under a compare-and-set, so a stale copy never refunds more than is
//! left.

use time::OffsetDateTime;

use super::clock;
use super::load::{LoadError, OrderError};
use super::notices::Notice;
use super::record::update_paid;
use super::{Payments, ServiceOrder};
use crate::client::ClientError;
use crate::metrics::{self, Refunded};
use crate::order::{Order, Paid, Refund, RefundEnd, RefundLimit, RefundState, State, left_text};
use crate::price::{AsPrice, Price};
use crate::response::Aoid;
use crate::store::{StoreError, Transition};

/// How often a refund reads the order again when another writer changed it meanwhile.
const TRIES: usize = 3;

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::order::Paid {}
}

/// The states whose orders can be refunded: [`Paid`], and no other. Sealed.
#[diagnostic::on_unimplemented(
    message = "only a paid order can be refunded, and this one is `{Self}`",
    label = "not an `Order<_, Paid>`",
    note = "load the order and match its paid state: `if let Some(StoredOrder::Paid(paid)) = payments.order(id).await? {{ payments.refund(&paid, amount, key).await?; }}`; an order becomes paid when XorPay's notification is recorded"
)]
pub trait IsPaid: State + sealed::Sealed {}

impl IsPaid for Paid {}

/// Why a refund (or resolving one, or recording an `aoid`) did not happen as asked. Each says
/// whether asking again with the same key is safe ([`RefundError::is_safe_to_retry`]; the
/// same key never refunds twice).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefundError {
    /// The stored order is not the paid order given: not stored, not paid, another one, or
    /// changed by another writer throughout; nothing was sent.
    #[error(transparent)]
    Order(#[from] OrderError),
    /// XorPay's answer did not come: the refund may or may not have been made. It stays
    /// recorded in doubt, counted against what is left, until resolved from XorPay's
    /// dashboard ([`Payments::resolve_refund`]); asking again with its key gives this again.
    #[error(
        "refund {key:?} of {amount} is in doubt: xorpay's answer did not come{cause}; it stays \
         counted until you resolve it from xorpay's dashboard (payments.resolve_refund)",
        key = .refund.key(),
        amount = .refund.amount(),
        cause = cause_text(.error.as_ref())
    )]
    InDoubt {
        /// The refund, recorded in doubt.
        refund: Box<Refund>,
        /// How the answer failed, when this request sent it.
        error: Option<ClientError>,
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
    /// The key names an earlier refund of another amount. Use a new key for a new refund.
    #[error("refund key {key:?} was used for a refund of {amount}: use a new key for a new refund")]
    KeyReused {
        /// The key.
        key: String,
        /// The amount of the refund that has it.
        amount: Price,
    },
    /// The key is empty or longer than [`crate::order::MAX_REFUND_KEY`] bytes.
    #[error("a refund key must be 1 to {} bytes", crate::order::MAX_REFUND_KEY)]
    InvalidKey,
    /// Another refund of this order is in doubt: resolve it first
    /// ([`Payments::resolve_refund`]); nothing was sent.
    #[error("a refund of {amount} (key {key:?}) is in doubt; resolve it before refunding again")]
    AnotherInDoubt {
        /// Its key.
        key: String,
        /// Its amount.
        amount: Price,
    },
    /// The amount is more than what is left to refund; nothing was sent.
    #[error("refund of {requested} exceeds what is left to refund ({})", left_text(*.refundable))]
    ExceedsRefundable {
        /// The amount asked for.
        requested: Price,
        /// What is left, `None` when everything was refunded.
        refundable: Option<Price>,
    },
    /// The order has had [`crate::order::MAX_REFUNDS`] refunds, XorPay's limit.
    #[error(
        "the order has had {} refunds, xorpay's limit",
        crate::order::MAX_REFUNDS
    )]
    TooMany,
    /// The order was proven paid by a query, which does not tell XorPay's `aoid`, and no
    /// notification has named it yet: a refund is addressed by it. The notification names it
    /// when it comes; if XorPay gave up notifying (after about 6.5 hours), read it on the
    /// merchant dashboard and record it ([`Payments::record_aoid`]).
    #[error(
        "the order's xorpay aoid is not known (a query confirmed it): wait for its \
         notification, or record the aoid from xorpay's dashboard (payments.record_aoid)"
    )]
    AoidUnknown,
    /// [`Payments::record_aoid`]: the order already knows another `aoid`.
    #[error("the order's aoid is {known}, not the one given")]
    AoidKnown {
        /// The `aoid` the order has.
        known: Aoid,
    },
    /// [`Payments::resolve_refund`]: the order has no refund in doubt with this key
    /// (resolved already, or never asked).
    #[error("the order has no refund {key:?} in doubt (resolved already, or the page is stale)")]
    NoSuchRefund {
        /// The key.
        key: String,
    },
    /// [`Payments::resolve_refund`]: the request that sent the refund may still be under
    /// way, so XorPay's dashboard showing no refund proves nothing yet. Try again after
    /// `after`.
    #[error("the refund may still be under way: resolve it after {after}")]
    TooEarly {
        /// When it can be resolved.
        after: OffsetDateTime,
    },
    /// The refund was sent and answered, but the answer could not be recorded (the order
    /// kept changing): compare XorPay's dashboard with the order, and resolve it.
    #[error(
        "order {order_id:?}: xorpay answered the refund ({made}), but the answer was not \
         recorded: check xorpay's dashboard"
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

fn cause_text(error: Option<&ClientError>) -> String {
    error.map(|error| format!(" ({error})")).unwrap_or_default()
}

impl RefundError {
    /// Whether asking again with the same order, amount and key is safe and may succeed.
    pub fn is_safe_to_retry(&self) -> bool {
        match self {
            RefundError::Order(error) => error.is_safe_to_retry(),
            RefundError::NotSent { .. } | RefundError::TooEarly { .. } | RefundError::Store(_) => {
                true
            }
            _ => false,
        }
    }
}

impl From<LoadError> for RefundError {
    fn from(error: LoadError) -> RefundError {
        match error {
            LoadError::Store(error) => RefundError::Store(error),
            LoadError::Order(error) => RefundError::Order(error),
        }
    }
}

/// The refusal of a refund that was never sent, as the merchant reads it.
fn refused(limit: RefundLimit, key: &str, amount: Price) -> RefundError {
    match limit {
        RefundLimit::TooMany => RefundError::TooMany,
        RefundLimit::AoidUnknown => RefundError::AoidUnknown,
        RefundLimit::InDoubt { key, amount } => RefundError::AnotherInDoubt { key, amount },
        RefundLimit::ExceedsPaid {
            requested,
            refundable,
        } => RefundError::ExceedsRefundable {
            requested,
            refundable,
        },
        RefundLimit::InvalidKey => RefundError::InvalidKey,
        // Looked up before beginning: a key in use gives its first outcome instead.
        RefundLimit::KeyUsed => RefundError::KeyReused {
            key: key.to_owned(),
            amount,
        },
    }
}

impl<O: ServiceOrder> Payments<O> {
    /// Refunds `amount` of a paid order under the merchant's `key` (a refund request's id,
    /// say), as [`guarantees::refund_in_doubt`](super::guarantees::refund_in_doubt) says: a
    /// double click or a retried request with the same key gets the first one's outcome.
    ///
    /// `order` names the order: the stored order decides, so a copy loaded before another
    /// refund never refunds more than is left.
    ///
    /// # Errors
    /// [`RefundError`]: [`RefundError::InDoubt`] when XorPay's answer did not come, a
    /// refusal by XorPay is [`RefundError::NotMade`] (recorded), and the limits refuse
    /// before anything is sent.
    pub async fn refund(
        &self,
        order: &Order<O, impl IsPaid>,
        amount: impl AsPrice,
        key: &str,
    ) -> Result<Refund, RefundError> {
        let amount = amount.price();
        let order_id = order.order_id();
        let (mut paid, ticket) = 'recorded: {
            for _ in 0..TRIES {
                let mut paid = self.current_paid(order).await?;
                if let Some(refund) = paid.refund_with_key(key) {
                    return repeat(refund, amount);
                }
                let now = self.now();
                let ticket = paid
                    .begin_refund(key, amount, now)
                    .map_err(|limit| refused(limit, key, amount))?;
                // A person is told if it is still in doubt once it may be resolved.
                let doubt = Notice::RefundInDoubt { key, asked_at: now };
                if update_paid(self.ledger(), &mut paid, &[doubt], now).await?
                    == Transition::Applied
                {
                    break 'recorded (paid, ticket);
                }
            }
            return Err(OrderError::changed(order_id).into());
        };
        // Sent only once its refund in doubt is durable: recorded just above.
        debug_assert!(paid.is_recorded(&ticket));
        match self.inner.client.send_refund(&paid, ticket).await {
            Err(error) if error.outcome_unknown() => {
                metrics::refunded(Refunded::InDoubt);
                let refund = paid.refund_with_key(key).cloned();
                Err(RefundError::InDoubt {
                    refund: Box::new(refund.ok_or_else(|| OrderError::changed(order_id))?),
                    error: Some(error),
                })
            }
            Ok(()) => {
                // Counted as XorPay answered, whether or not recording it succeeds.
                metrics::refunded(Refunded::Made);
                self.record(&mut paid, key, RefundEnd::Made).await?;
                let refund = paid.refund_with_key(key).cloned();
                Ok(refund.ok_or_else(|| OrderError::changed(order_id))?)
            }
            Err(error @ ClientError::Unreachable { .. }) => {
                metrics::refunded(Refunded::NotSent);
                self.record(&mut paid, key, RefundEnd::NotSent).await?;
                Err(RefundError::NotSent {
                    key: key.to_owned(),
                    error,
                })
            }
            Err(error) => {
                let reason = format!("xorpay refused it: {error}");
                let end = RefundEnd::NotMade(reason.clone());
                metrics::refunded(Refunded::Refused);
                self.record(&mut paid, key, end).await?;
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
                && update_paid(self.ledger(), order, told(&end, key).as_slice(), self.now()).await?
                    == Transition::Applied
            {
                self.inner.signals.wake();
                return Ok(());
            }
            *order = self.stored_paid(&order_id).await?;
            if order.refund_with_key(key).map(Refund::state) != Some(RefundState::InDoubt) {
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

    /// Settles the refund `key` of a paid order, in doubt, as XorPay's merchant dashboard
    /// shows it: `made` or not. Refused until `refund_resolve_after` (a builder setting) has
    /// passed since it was asked: until then XorPay may still be making it, and its dashboard
    /// showing no refund proves nothing. Returns the refund as recorded.
    ///
    /// # Errors
    /// [`RefundError::NoSuchRefund`], [`RefundError::TooEarly`], or the order not as stored
    /// ([`RefundError::Order`]); nothing changed.
    pub async fn resolve_refund(
        &self,
        order: &Order<O, impl IsPaid>,
        key: &str,
        made: bool,
    ) -> Result<Refund, RefundError> {
        let mut paid = self.current_paid(order).await?;
        let Some(refund) = paid
            .refund_with_key(key)
            .filter(|refund| refund.state() == RefundState::InDoubt)
        else {
            return Err(RefundError::NoSuchRefund {
                key: key.to_owned(),
            });
        };
        let after = clock::after(refund.requested_at(), self.inner.resolve_after);
        let now = self.now();
        if now < after {
            return Err(RefundError::TooEarly { after });
        }
        let end = match made {
            true => RefundEnd::Made,
            false => RefundEnd::NotMade("resolved as not made from xorpay's dashboard".to_owned()),
        };
        let notice = told(&end, key);
        paid.resolve_refund(key, end, now);
        match update_paid(self.ledger(), &mut paid, notice.as_slice(), now).await? {
            Transition::Applied => {
                self.inner.signals.wake();
                metrics::refunded(match made {
                    true => Refunded::ResolvedMade,
                    false => Refunded::ResolvedNotMade,
                });
                Ok(paid
                    .refund_with_key(key)
                    .cloned()
                    .ok_or_else(|| OrderError::changed(order.order_id()))?)
            }
            Transition::NotApplied => Err(OrderError::changed(order.order_id()).into()),
        }
    }

    /// Records the `aoid` of a paid order that only a query proved paid, as read on XorPay's
    /// merchant dashboard: when every notification failed (XorPay gives up after about 6.5
    /// hours), nothing else tells it, and refunds need it.
    ///
    /// # Errors
    /// [`RefundError::AoidKnown`] when the order already knows another `aoid`, or the order
    /// not as stored ([`RefundError::Order`]).
    pub async fn record_aoid(
        &self,
        order: &Order<O, impl IsPaid>,
        aoid: Aoid,
    ) -> Result<(), RefundError> {
        let mut paid = self.current_paid(order).await?;
        if let Some(known) = paid.aoid()
            && *known != aoid
        {
            return Err(RefundError::AoidKnown {
                known: known.clone(),
            });
        }
        if paid.record_aoid(aoid).is_err() {
            return Err(OrderError::changed(order.order_id()).into());
        }
        match update_paid(self.ledger(), &mut paid, &[], self.now()).await? {
            Transition::Applied => Ok(()),
            Transition::NotApplied => Err(OrderError::changed(order.order_id()).into()),
        }
    }
}

/// What the hook is told of a refund that ended so: made or not made. One never sent is
/// withdrawn as if never begun (its key may be used again): nothing to tell.
fn told<'a>(end: &RefundEnd, key: &'a str) -> Option<Notice<'a>> {
    match end {
        RefundEnd::Made => Some(Notice::RefundMade(key)),
        RefundEnd::NotMade(_) => Some(Notice::RefundNotMade(key)),
        RefundEnd::NotSent => None,
    }
}

/// A repeated request with a key already used: the first request's outcome.
fn repeat(refund: &Refund, amount: Price) -> Result<Refund, RefundError> {
    if refund.amount() != amount {
        return Err(RefundError::KeyReused {
            key: refund.key().to_owned(),
            amount: refund.amount(),
        });
    }
    match refund.state() {
        RefundState::Made => Ok(refund.clone()),
        RefundState::InDoubt => Err(RefundError::InDoubt {
            refund: Box::new(refund.clone()),
            error: None,
        }),
        _ => Err(RefundError::NotMade {
            key: refund.key().to_owned(),
            reason: refund.note().unwrap_or("not made").to_owned(),
        }),
    }
}
