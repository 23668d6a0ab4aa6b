//! A paid order's refunds: each one recorded under a key the merchant chooses, what is left,
//! and XorPay's limits.
//!
//! XorPay has no refund query, so a refund whose answer is lost can only be settled by a
//! person reading the merchant dashboard. Hence at most one refund is in doubt at a time, it
//! counts as made against what is left until it is resolved, and a repeated request with the
//! same key finds the first one instead of refunding twice.

use time::OffsetDateTime;

use super::Order;
use super::refund::{Refund, RefundState};
use super::state::Paid;
use crate::price::Price;
use crate::response::Aoid;

/// XorPay allows at most this many (partial) refunds per order (docs/protocol.md §4.6).
pub const MAX_REFUNDS: u8 = 50;

/// The longest refund key, in bytes.
pub const MAX_REFUND_KEY: usize = 128;

/// A refund refused before anything was sent: what the service answers as a `RefundError`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) enum RefundLimit {
    /// The order has had [`MAX_REFUNDS`] refunds already.
    TooMany,
    /// The order's `aoid` is unknown (a query confirmed it): a refund is addressed by it.
    AoidUnknown,
    /// An earlier refund's outcome is unknown; it must be resolved first.
    InDoubt {
        /// Its key.
        key: String,
        /// Its amount.
        amount: Price,
    },
    /// The amount is more than what is left to refund.
    ExceedsPaid {
        /// The amount asked for.
        requested: Price,
        /// What is left, `None` when everything was refunded.
        refundable: Option<Price>,
    },
    /// This key names an earlier refund of the order.
    KeyUsed,
    /// The key is empty or longer than [`MAX_REFUND_KEY`] bytes.
    InvalidKey,
}

#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) fn left_text(left: Option<Price>) -> String {
    match left {
        Some(left) => left.to_string(),
        None => "nothing".to_owned(),
    }
}

/// How a refund in doubt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) enum RefundEnd {
    /// XorPay made it.
    Made,
    /// It was not made; why (XorPay's refusal, or "resolved as not made").
    NotMade(String),
    /// It was never sent: no connection to XorPay could be made. The entry is withdrawn, as
    /// if the refund had never begun, so its key can be used again.
    NotSent,
}

/// A begun refund, to be sent once: only [`Order::begin_refund`] makes one, and sending
/// consumes it. After a crash there is no ticket, so a refund whose fate is unknown cannot be
/// sent twice by accident.
#[derive(Debug)]
#[must_use = "send the refund with it, or resolve the refund in doubt"]
#[cfg_attr(not(feature = "client"), allow(dead_code))]
pub(crate) struct RefundTicket {
    aoid: Aoid,
    amount: Price,
    key: String,
}

#[cfg_attr(not(feature = "client"), allow(dead_code))]
impl RefundTicket {
    /// The amount to refund.
    pub(crate) fn amount(&self) -> Price {
        self.amount
    }

    /// The order it belongs to.
    pub(crate) fn aoid(&self) -> &Aoid {
        &self.aoid
    }
}

impl<O> Order<O, Paid> {
    /// Every refund asked of XorPay, oldest first.
    pub fn refunds(&self) -> &[Refund] {
        &self.data.refunds
    }

    /// The refund with this key, if one was asked for.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn refund_with_key(&self, key: &str) -> Option<&Refund> {
        self.data.refunds.iter().find(|refund| refund.key() == key)
    }

    /// The total XorPay made, `None` for nothing.
    pub fn refunded(&self) -> Option<Price> {
        self.total(RefundState::Made)
    }

    /// How many refunds XorPay made.
    pub fn refund_count(&self) -> u8 {
        self.data
            .refunds
            .iter()
            .filter(|refund| refund.state() == RefundState::Made)
            .count()
            .try_into()
            .unwrap_or(u8::MAX)
    }

    /// What is left to refund, `None` when everything was. A refund in doubt counts as
    /// made.
    pub fn refundable(&self) -> Option<Price> {
        let mut left = Some(self.data.paid_price);
        for taken in [self.refunded(), self.total(RefundState::InDoubt)]
            .into_iter()
            .flatten()
        {
            left = left.and_then(|left| left.checked_sub(taken));
        }
        left
    }

    /// The refund in doubt: one asked for and not known to have been made or not. That is
    /// the state between recording it and hearing XorPay's answer, and after an answer that
    /// did not come (a timeout, a dropped connection, a 5xx): XorPay may or may not have
    /// refunded, and no query tells. The service's `resolve_refund` settles it once the
    /// merchant dashboard says.
    pub fn refund_in_doubt(&self) -> Option<&Refund> {
        self.data
            .refunds
            .iter()
            .find(|refund| refund.state() == RefundState::InDoubt)
    }

    fn total(&self, state: RefundState) -> Option<Price> {
        let mut total: Option<Price> = None;
        for refund in self
            .data
            .refunds
            .iter()
            .filter(|refund| refund.state() == state)
        {
            // Within the paid price, checked when each refund began.
            total = Some(match total {
                None => refund.amount(),
                Some(sum) => sum.checked_add(refund.amount()).unwrap_or(Price::MAX),
            });
        }
        total
    }

    /// Whether XorPay would accept refunding `amount` now: the `aoid` known, no refund in
    /// doubt, under the refund limit, and within what is left.
    ///
    /// # Errors
    /// The [`RefundLimit`] that refuses it.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn check_refund(&self, amount: Price) -> Result<(), RefundLimit> {
        if self.data.aoid.is_none() {
            return Err(RefundLimit::AoidUnknown);
        }
        if let Some(in_doubt) = self.refund_in_doubt() {
            return Err(RefundLimit::InDoubt {
                key: in_doubt.key().to_owned(),
                amount: in_doubt.amount(),
            });
        }
        if self.refund_count() >= MAX_REFUNDS {
            return Err(RefundLimit::TooMany);
        }
        let refundable = self.refundable();
        match refundable {
            Some(left) if amount <= left => Ok(()),
            _ => Err(RefundLimit::ExceedsPaid {
                requested: amount,
                refundable,
            }),
        }
    }

    /// Begins the refund `key` of `amount` at `now`: checks the limits and records it as in
    /// doubt, so that a crash between sending it and hearing the answer cannot lose it. Save
    /// the order, then send the refund with the ticket (`Client::send_refund`, which refuses
    /// a ticket whose order was not saved since), then record XorPay's answer
    /// ([`Order::resolve_refund`]) and save again. The lifecycle service does all of it.
    ///
    /// # Errors
    /// The [`RefundLimit`] that refuses it ([`RefundLimit::KeyUsed`] for a key an earlier
    /// refund has); nothing is recorded then.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn begin_refund(
        &mut self,
        key: &str,
        amount: Price,
        now: OffsetDateTime,
    ) -> Result<RefundTicket, RefundLimit> {
        if key.is_empty() || key.len() > MAX_REFUND_KEY {
            return Err(RefundLimit::InvalidKey);
        }
        if self.refund_with_key(key).is_some() {
            return Err(RefundLimit::KeyUsed);
        }
        self.check_refund(amount)?;
        let aoid = self.data.aoid.clone().ok_or(RefundLimit::AoidUnknown)?;
        self.data.refunds.push(Refund::in_doubt(key, amount, now));
        self.changed();
        Ok(RefundTicket {
            aoid,
            amount,
            key: key.to_owned(),
        })
    }

    /// Whether the refund begun with `ticket` is recorded as in doubt in the store: this copy
    /// was saved since it began (a store's conditional write applied). Only then may it be
    /// sent, so that neither a crash nor a concurrent copy can lose a refund XorPay made.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn is_recorded(&self, ticket: &RefundTicket) -> bool {
        self.refund_in_doubt()
            .is_some_and(|refund| refund.key() == ticket.key && refund.amount() == ticket.amount)
            && self.data.aoid.as_ref() == Some(&ticket.aoid)
            && self.data.stored_revision == self.data.revision
    }

    /// Settles the refund in doubt `key` at `now`: XorPay's answer, or what its dashboard
    /// shows. Returns whether that refund was in doubt (nothing changes otherwise).
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn resolve_refund(
        &mut self,
        key: &str,
        end: RefundEnd,
        now: OffsetDateTime,
    ) -> bool {
        let Some(index) = self
            .data
            .refunds
            .iter()
            .position(|refund| refund.key() == key && refund.state() == RefundState::InDoubt)
        else {
            return false;
        };
        match end {
            RefundEnd::NotSent => {
                self.data.refunds.remove(index);
            }
            RefundEnd::Made => self.data.refunds[index].settle(Ok(()), now),
            RefundEnd::NotMade(note) => self.data.refunds[index].settle(Err(note), now),
        }
        self.changed();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::__private::Visit;
    use crate::request::{OwnNotifyUrl, ValueSource, XorPayOrder};

    /// A hand-written order type: the derive lives in another crate.
    struct Tea(Price);

    impl XorPayOrder for Tea {
        type NotifyUrl = OwnNotifyUrl;

        fn kind(&self) -> crate::RequestKind {
            crate::RequestKind::Native
        }

        fn __xorpay_visit<V: Visit>(&self, visitor: &mut V) {
            visitor.signed_str("name", ValueSource::Field("name"), "Tea");
            visitor.signed_str("pay_type", ValueSource::Kind, "native");
            visitor.signed_price(ValueSource::Field("price"), self.0);
            visitor.signed_str("order_id", ValueSource::Field("id"), "t-1");
            visitor.signed_str(
                "notify_url",
                ValueSource::Attribute,
                "https://shop.example/n",
            );
        }
    }

    fn paid(fen: u64) -> Order<Tea, Paid> {
        let price = Price::from_fen(fen).unwrap();
        let created = Order::new(Tea(price)).unwrap();
        created.paid_by_query(Some(Aoid::new("e19c8c8673ba42419043fc92b99303c1").unwrap()))
    }

    const T0: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    /// A refund XorPay made, as the service records it.
    fn refund(order: &mut Order<Tea, Paid>, amount: Price) -> Result<(), RefundLimit> {
        let key = format!("k-{}", order.refunds().len());
        let _ticket = order.begin_refund(&key, amount, T0)?;
        order.resolve_refund(&key, RefundEnd::Made, T0);
        Ok(())
    }

    fn fen(fen: u64) -> Price {
        Price::from_fen(fen).unwrap()
    }

    #[test]
    fn refunds_are_limited_to_what_is_left_and_to_fifty() {
        let mut order = paid(100);
        refund(&mut order, fen(40)).unwrap();
        assert_eq!(order.refundable(), Some(fen(60)));
        assert_eq!(
            refund(&mut order, fen(61)),
            Err(RefundLimit::ExceedsPaid {
                requested: fen(61),
                refundable: Some(fen(60))
            })
        );
        refund(&mut order, fen(60)).unwrap();
        assert_eq!(order.refundable(), None);
        assert!(order.check_refund(Price::MIN).is_err());

        let mut order = paid(10_000);
        for _ in 0..MAX_REFUNDS {
            refund(&mut order, Price::MIN).unwrap();
        }
        assert_eq!(refund(&mut order, Price::MIN), Err(RefundLimit::TooMany));
        assert_eq!(order.refund_count(), 50);
        assert_eq!(order.refunded(), Some(fen(50)));
    }

    #[test]
    fn a_refund_in_doubt_counts_until_resolved_and_keys_are_unique() {
        let mut order = paid(100);
        let ticket = order.begin_refund("a", fen(70), T0).unwrap();
        assert_eq!((ticket.amount(), ticket.key.as_str()), (fen(70), "a"));
        assert_eq!((order.loaded_revision(), order.revision()), (0, 1));
        assert_eq!(order.refundable(), Some(fen(30)));
        assert_eq!(
            order.check_refund(Price::MIN),
            Err(RefundLimit::InDoubt {
                key: "a".into(),
                amount: fen(70)
            })
        );
        assert!(!order.is_recorded(&ticket));
        order.saved();
        assert!(order.is_recorded(&ticket));
        // Not made: kept in the history, no longer counted.
        assert!(order.resolve_refund("a", RefundEnd::NotMade("refused".into()), T0));
        assert!(!order.resolve_refund("a", RefundEnd::Made, T0));
        assert!(!order.resolve_refund("a", RefundEnd::NotSent, T0));
        assert_eq!(order.refundable(), Some(fen(100)));
        assert_eq!(
            order.refund_with_key("a").unwrap().state(),
            RefundState::NotMade
        );
        // Every change since the last save is one revision: the store's compare-and-set is on
        // the revision it was read at.
        assert_eq!((order.loaded_revision(), order.revision()), (1, 2));
        assert_eq!(
            order.begin_refund("a", fen(1), T0).unwrap_err(),
            RefundLimit::KeyUsed
        );
        assert_eq!(
            order.begin_refund("", fen(1), T0).unwrap_err(),
            RefundLimit::InvalidKey
        );
        let _ = order.begin_refund("b", fen(70), T0).unwrap();
        order.resolve_refund("b", RefundEnd::Made, T0);
        assert_eq!(order.refunded(), Some(fen(70)));
        assert_eq!(order.refund_count(), 1);
        assert_eq!(order.refundable(), Some(fen(30)));
    }

    #[test]
    fn a_refund_never_sent_is_withdrawn_and_its_key_freed() {
        let mut order = paid(100);
        let _ = order.begin_refund("a", fen(70), T0).unwrap();
        order.saved();
        assert!(order.resolve_refund("a", RefundEnd::NotSent, T0));
        assert_eq!(order.refund_with_key("a"), None);
        assert!(order.refunds().is_empty());
        assert_eq!(order.refundable(), Some(fen(100)));
        assert_eq!((order.loaded_revision(), order.revision()), (1, 2));
        let _ = order.begin_refund("a", fen(70), T0).unwrap();
        assert_eq!(order.refund_in_doubt().map(Refund::amount), Some(fen(70)));
    }
}
