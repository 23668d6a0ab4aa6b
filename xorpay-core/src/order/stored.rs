//! The way back from storage: [`StoredOrder`], an order of any state, re-checked against the
//! merchant's struct it holds.

use core::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::Order;
use super::state::{Created, Expired, ExpiredData, Paid, PaidData, Pending, PendingData, State};
use crate::request::{XorPayOrder, order_facts};

/// Deserialising re-derives the order number and price from the merchant's struct (and
/// refuses a struct XorPay would refuse), so a stored row cannot claim other values than the
/// struct it holds.
#[derive(Debug)]
pub enum StoredOrder<O> {
    /// Not yet submitted.
    Created(Order<O, Created>),
    /// Submitted, waiting for payment.
    Pending(Order<O, Pending>),
    /// Paid.
    Paid(Order<O, Paid>),
    /// Expired unpaid.
    Expired(Order<O, Expired>),
}

impl<O> StoredOrder<O> {
    /// The state's name.
    pub fn state_name(&self) -> &'static str {
        match self {
            StoredOrder::Created(order) => order.state_name(),
            StoredOrder::Pending(order) => order.state_name(),
            StoredOrder::Paid(order) => order.state_name(),
            StoredOrder::Expired(order) => order.state_name(),
        }
    }

    /// The order number.
    pub fn order_id(&self) -> &str {
        match self {
            StoredOrder::Created(order) => order.order_id(),
            StoredOrder::Pending(order) => order.order_id(),
            StoredOrder::Paid(order) => order.order_id(),
            StoredOrder::Expired(order) => order.order_id(),
        }
    }
}

macro_rules! stored_from {
    ($($state:ident),*) => {$(
        impl<O> From<Order<O, $state>> for StoredOrder<O> {
            fn from(order: Order<O, $state>) -> StoredOrder<O> {
                StoredOrder::$state(order)
            }
        }
    )*};
}

stored_from!(Created, Pending, Paid, Expired);

impl<O: Serialize> Serialize for StoredOrder<O> {
    fn serialize<Z: serde::Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        match self {
            StoredOrder::Created(order) => order.serialize(serializer),
            StoredOrder::Pending(order) => order.serialize(serializer),
            StoredOrder::Paid(order) => order.serialize(serializer),
            StoredOrder::Expired(order) => order.serialize(serializer),
        }
    }
}

/// The stored shape, for deserialising.
#[derive(Deserialize)]
#[serde(tag = "state", rename_all = "snake_case", deny_unknown_fields)]
enum Stored<O> {
    Created { order: O, data: () },
    Pending { order: O, data: PendingData },
    Paid { order: O, data: PaidData },
    Expired { order: O, data: ExpiredData },
}

impl<'de, O: XorPayOrder + Deserialize<'de>> Deserialize<'de> for StoredOrder<O> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<StoredOrder<O>, D::Error> {
        fn typed<O: XorPayOrder, S: State, E: serde::de::Error>(
            order: O,
            mut data: S::Data,
        ) -> Result<Order<O, S>, E> {
            S::__loaded(&mut data);
            let facts = order_facts(&order).map_err(E::custom)?;
            if let Some(paid) = S::__paid_price(&data)
                && paid != facts.price
            {
                return Err(E::custom(
                    "stored paid amount differs from the order's price",
                ));
            }
            Ok(Order {
                order,
                order_id: facts.order_id,
                price: facts.price,
                data,
                state: PhantomData,
            })
        }
        Ok(match Stored::<O>::deserialize(deserializer)? {
            Stored::Created { order, data } => {
                StoredOrder::Created(typed::<O, Created, D::Error>(order, data)?)
            }
            Stored::Pending { order, data } => {
                StoredOrder::Pending(typed::<O, Pending, D::Error>(order, data)?)
            }
            Stored::Paid { order, data } => {
                StoredOrder::Paid(typed::<O, Paid, D::Error>(order, data)?)
            }
            Stored::Expired { order, data } => {
                StoredOrder::Expired(typed::<O, Expired, D::Error>(order, data)?)
            }
        })
    }
}
