//! Reading back the order a step acts on, and [`OrderError`]: why the stored order is not as
//! the step needs it.
//!
//! A step that takes a typed order (a refund takes an `&Order<O, Paid>`) reads only its
//! number from it: the row is loaded again and the step decides on the row, so a stale copy
//! acts on the order as it is now. A copy whose price or `aoid` disagrees with the row is
//! refused: it is not that order.

use super::record;
use super::{Payments, ServiceOrder};
use crate::order::{Order, Paid, State, StoredOrder};
use crate::store::StoreError;

/// The stored order is not as the step needs it; nothing was done. A fact shared by every
/// step that acts on one order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrderError {
    /// No order with this number is stored: it was never checked out through this
    /// service's store (an order built by hand and moved by a pure transition, say).
    #[error("no stored order {order_id:?}")]
    Unknown {
        /// The order number.
        order_id: String,
    },
    /// The order is stored in another state than the step needs.
    #[error("order {order_id:?} is stored as {state}, not paid")]
    NotPaid {
        /// The order number.
        order_id: String,
        /// The stored state's name.
        state: &'static str,
    },
    /// The typed order given disagrees with the stored one (its price, or its `aoid`): it is
    /// not that order.
    #[error(
        "order {order_id:?}: the order given is not the stored one (its price or aoid differs)"
    )]
    Differs {
        /// The order number.
        order_id: String,
    },
    /// Another writer kept changing the order while this step tried to record; nothing was
    /// recorded. Trying again is safe.
    #[error(
        "order {order_id:?} changed while this step was being recorded; nothing was done: try again"
    )]
    Changed {
        /// The order number.
        order_id: String,
    },
}

impl OrderError {
    /// The order number.
    pub fn order_id(&self) -> &str {
        match self {
            OrderError::Unknown { order_id }
            | OrderError::NotPaid { order_id, .. }
            | OrderError::Differs { order_id }
            | OrderError::Changed { order_id } => order_id,
        }
    }

    /// Whether the same step may succeed if tried again: only after another writer's change.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(self, OrderError::Changed { .. })
    }

    pub(super) fn changed(order_id: &str) -> OrderError {
        OrderError::Changed {
            order_id: order_id.to_owned(),
        }
    }
}

/// Either what failed to read, or what the stored order is not.
#[derive(Debug)]
pub(super) enum LoadError {
    Store(StoreError),
    Order(OrderError),
}

impl From<StoreError> for LoadError {
    fn from(error: StoreError) -> LoadError {
        LoadError::Store(error)
    }
}

impl From<OrderError> for LoadError {
    fn from(error: OrderError) -> LoadError {
        LoadError::Order(error)
    }
}

impl<O: ServiceOrder> Payments<O> {
    /// The stored order with `order_id`, which must be stored.
    pub(super) async fn stored(&self, order_id: &str) -> Result<StoredOrder<O>, LoadError> {
        match self.inner.store.load(order_id).await? {
            Some(record) => Ok(record::typed(&record)?),
            None => Err(OrderError::Unknown {
                order_id: order_id.to_owned(),
            }
            .into()),
        }
    }

    /// The stored order with `order_id`, which must be stored as paid.
    pub(super) async fn stored_paid(&self, order_id: &str) -> Result<Order<O, Paid>, LoadError> {
        match self.stored(order_id).await? {
            StoredOrder::Paid(order) => Ok(order),
            other => Err(OrderError::NotPaid {
                order_id: order_id.to_owned(),
                state: other.state_name(),
            }
            .into()),
        }
    }

    /// The paid order as stored now, for a copy the caller holds: refused when the copy's
    /// price or `aoid` disagrees with the row (a copy that does not know the `aoid` the store
    /// learnt since is only stale).
    pub(super) async fn current_paid<S: State>(
        &self,
        copy: &Order<O, S>,
    ) -> Result<Order<O, Paid>, LoadError> {
        let stored = self.stored_paid(copy.order_id()).await?;
        check_same(copy, &stored)?;
        Ok(stored)
    }
}

/// Whether `copy` is the order `stored` is: the same price, and no `aoid` other than the
/// stored one.
pub(super) fn check_same<O, S: State, T: State>(
    copy: &Order<O, S>,
    stored: &Order<O, T>,
) -> Result<(), OrderError> {
    let aoid_agrees = match (copy.known_aoid(), stored.known_aoid()) {
        (Some(copy), Some(stored)) => copy == stored,
        (Some(_), None) => false,
        (None, _) => true,
    };
    if copy.price() != stored.price() || !aoid_agrees {
        return Err(OrderError::Differs {
            order_id: copy.order_id().to_owned(),
        });
    }
    Ok(())
}
