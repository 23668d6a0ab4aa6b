//! The way back from storage: [`StoredOrder`], an order of any state, re-checked against the
//! merchant's struct it holds.

use core::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::Order;
use super::state::{Created, Expired, ExpiredData, Paid, PaidData, Pending, PendingData, State};
use crate::request::{XorPayOrder, order_facts};

/// An order of any state, as loaded from storage: the one way back into a typed order.
///
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

/// An order in state `S` from its merchant struct and state data, both as read back from
/// storage: the order number and price are re-derived from the struct (which XorPay must
/// accept), and a paid amount must be the order's price.
fn typed<O: XorPayOrder, S: State>(order: O, mut data: S::Data) -> Result<Order<O, S>, String> {
    S::__loaded(&mut data);
    let facts = order_facts(&order).map_err(|error| error.to_string())?;
    if let Some(paid) = S::__paid_price(&data)
        && paid != facts.price
    {
        return Err("stored paid amount differs from the order's price".to_owned());
    }
    Ok(Order {
        order,
        order_id: facts.order_id,
        price: facts.price,
        data,
        state: PhantomData,
    })
}

impl<'de, O: XorPayOrder + Deserialize<'de>> Deserialize<'de> for StoredOrder<O> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<StoredOrder<O>, D::Error> {
        use serde::de::Error as _;
        Ok(match Stored::<O>::deserialize(deserializer)? {
            Stored::Created { order, data } => {
                StoredOrder::Created(typed::<O, Created>(order, data).map_err(D::Error::custom)?)
            }
            Stored::Pending { order, data } => {
                StoredOrder::Pending(typed::<O, Pending>(order, data).map_err(D::Error::custom)?)
            }
            Stored::Paid { order, data } => {
                StoredOrder::Paid(typed::<O, Paid>(order, data).map_err(D::Error::custom)?)
            }
            Stored::Expired { order, data } => {
                StoredOrder::Expired(typed::<O, Expired>(order, data).map_err(D::Error::custom)?)
            }
        })
    }
}

impl<O: XorPayOrder + serde::de::DeserializeOwned> StoredOrder<O> {
    /// The order of state `state` (its storage name) made of its merchant struct and its state
    /// data, as JSON texts kept apart (how stores keep them).
    ///
    /// # Errors
    /// What is wrong: an unknown state, JSON that is not the struct or the state's data, or
    /// a struct that disagrees with the data.
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn from_json(
        state: &str,
        order: &str,
        data: &str,
    ) -> Result<StoredOrder<O>, String> {
        let order: O = serde_json::from_str(order).map_err(|error| error.to_string())?;
        let json = |error: serde_json::Error| error.to_string();
        Ok(match state {
            "created" => {
                StoredOrder::Created(typed(order, serde_json::from_str(data).map_err(json)?)?)
            }
            "pending" => {
                StoredOrder::Pending(typed(order, serde_json::from_str(data).map_err(json)?)?)
            }
            "paid" => StoredOrder::Paid(typed(order, serde_json::from_str(data).map_err(json)?)?),
            "expired" => {
                StoredOrder::Expired(typed(order, serde_json::from_str(data).map_err(json)?)?)
            }
            other => return Err(format!("unknown state {other:?}")),
        })
    }
}

impl<O, S: State> Order<O, S> {
    /// What the state knows, as JSON (kept apart from the merchant's struct by stores).
    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn data_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(&self.data)
    }
}
