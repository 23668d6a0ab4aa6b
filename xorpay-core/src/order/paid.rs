//! What a paid order knows: the payment, XorPay's `aoid` (learnt late when only a query
//! proved the payment) and the revision a store saves it under.

use time::OffsetDateTime;

use super::Order;
use super::state::{ConfirmedBy, Paid};
use super::transition::{ConfirmError, exact_aoid};
use crate::notify::{ExpectedPayment, PaymentMismatch, VerifiedNotification};
use crate::price::Price;
use crate::response::Aoid;

impl<O> Order<O, Paid> {
    /// XorPay's id for the order; `None` while only a query has proven the payment (a query
    /// answers a status and nothing else, docs/protocol.md §4.4) and no notification has named it.
    pub fn aoid(&self) -> Option<&Aoid> {
        self.data.aoid.as_ref()
    }

    /// Learns the `aoid` of an order proven paid by a query, from its verified notification,
    /// which must be about this order, for exactly its amount, with an `aoid` in XorPay's
    /// exact form. An order whose `aoid` is known only checks that the notification names it.
    /// Save the order afterwards (the lifecycle service does).
    ///
    /// # Errors
    /// [`ConfirmError::Mismatch`] or [`ConfirmError::Ambiguous`]; nothing changes.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn learn_aoid(
        &mut self,
        notification: &VerifiedNotification,
    ) -> Result<(), ConfirmError> {
        let aoid = match &self.data.aoid {
            Some(aoid) => aoid.clone(),
            None => exact_aoid(self.price, notification).ok_or(ConfirmError::Ambiguous)?,
        };
        notification.check(&ExpectedPayment {
            aoid: &aoid,
            order_id: &self.order_id,
            price: self.data.paid_price,
        })?;
        if self.data.aoid.is_none() {
            let detail = notification.unverified_payment_detail();
            self.data.aoid = Some(aoid);
            self.data.pay_time = notification.pay_time();
            self.data.raw_pay_time = Some(notification.raw_pay_time().to_owned());
            self.data.transaction_id = detail.transaction_id;
            self.changed();
        }
        Ok(())
    }

    /// `pay_time` exactly as XorPay signed it, when a notification confirmed the order: also
    /// in a form [`Order::pay_time`] could not read.
    pub fn raw_pay_time(&self) -> Option<&str> {
        self.data.raw_pay_time.as_deref()
    }

    /// The amount paid.
    pub fn paid_price(&self) -> Price {
        self.data.paid_price
    }

    /// When it was paid, in China time; `None` when a query, not a notification, confirmed it,
    /// or when XorPay wrote it in a form nobody documented (see [`Order::raw_pay_time`]).
    pub fn pay_time(&self) -> Option<OffsetDateTime> {
        self.data.pay_time
    }

    /// The payment channel's transaction number, from the notification's `detail`. **Not
    /// covered by XorPay's signature**: for display and support, not for decisions.
    pub fn transaction_id(&self) -> Option<&str> {
        self.data.transaction_id.as_deref()
    }

    /// What proved the payment.
    pub fn confirmed_by(&self) -> ConfirmedBy {
        self.data.confirmed_by
    }

    /// The revision this copy saves as: [`Order::loaded_revision`], plus one once it changed.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn revision(&self) -> u32 {
        self.data.revision
    }

    /// The revision of the stored row this copy was read from, or last saved as. A store
    /// saves the copy only over a row still at exactly this revision (a compare-and-set), so
    /// of two copies read at once only the first to save is recorded, however many changes
    /// either made since.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn loaded_revision(&self) -> u32 {
        self.data.stored_revision
    }

    /// Records that this copy was saved: its revision is now the stored one. The lifecycle
    /// service calls it after its conditional write applied. A custom flow with its own
    /// storage calls it only after saving this copy over a row still at exactly
    /// [`Order::loaded_revision`]: `Client::send_refund` trusts it to mean the refund in
    /// doubt is durable.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn saved(&mut self) {
        self.data.stored_revision = self.data.revision;
    }

    /// Marks the record changed since it was read or saved.
    pub(super) fn changed(&mut self) {
        self.data.revision = self.data.stored_revision.wrapping_add(1);
    }

    /// Records the `aoid` of an order proven paid by a query alone, as read on XorPay's
    /// merchant dashboard: when every notification failed (XorPay gives up after about 6.5
    /// hours), nothing else ever tells it, and refunds need it. Save the order afterwards.
    ///
    /// # Errors
    /// [`ConfirmError::Mismatch`] when the order already knows another `aoid`.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn record_aoid(&mut self, aoid: Aoid) -> Result<(), ConfirmError> {
        match &self.data.aoid {
            Some(known) if *known == aoid => Ok(()),
            Some(_) => Err(ConfirmError::Mismatch(PaymentMismatch::Aoid)),
            None => {
                self.data.aoid = Some(aoid);
                self.changed();
                Ok(())
            }
        }
    }
}
