//! The shop's order struct: what XorPay sees of an order, signed by the derive.

use serde::{Deserialize, Serialize};
use xorpay::prelude::*;

/// One order of the shop, as XorPay sees it.
#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = jsapi, notify_url = from_client)]
pub(crate) struct ShopOrder {
    /// The shop's order number.
    #[xorpay(order_id)]
    pub(crate) id: String,
    /// The product name.
    #[xorpay(name)]
    pub(crate) title: String,
    /// The amount.
    #[xorpay(price)]
    pub(crate) price: Price,
    /// The payer, from XorPay's openid redirect.
    #[xorpay(openid)]
    pub(crate) openid: String,
    /// The product key, echoed in the notification (unsigned, display only).
    #[xorpay(more)]
    pub(crate) product: String,
    /// How long the payer has to pay, in seconds (XorPay's default, two hours, when `None`).
    #[xorpay(expire)]
    #[serde(default)]
    pub(crate) lifetime: Option<u32>,
}
