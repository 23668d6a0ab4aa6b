//! The shop's orders: one struct per way the shop takes a payment, each signed by the derive,
//! and the enum of them that the service takes. Which one a payer gets is chosen from their
//! browser (`xorpay::payer::kind_for`, in `app.rs`).

use serde::{Deserialize, Serialize};
use xorpay::prelude::*;

/// An order of the shop, in whichever way the payer pays.
#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
pub(crate) enum ShopOrder {
    /// Inside WeChat: WeChat Pay on the page (JSAPI), as the payer XorPay's openid redirect
    /// named.
    WeChat(WeChatOrder),
    /// On a computer: a WeChat QR code to scan with the phone.
    Qr(QrOrder),
    /// In a phone's browser outside WeChat: Alipay, opened from a link (the phone cannot scan
    /// its own screen).
    Alipay(AlipayOrder),
}

/// Pays inside WeChat's browser.
#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = jsapi, notify_url = from_client)]
pub(crate) struct WeChatOrder {
    /// The shop's order number.
    #[xorpay(order_id)]
    pub(crate) id: String,
    /// The product name.
    #[xorpay(name)]
    pub(crate) title: String,
    /// The amount.
    #[xorpay(price)]
    pub(crate) price: Price,
    /// The product key, echoed in the notification (unsigned, display only).
    #[xorpay(more)]
    pub(crate) product: String,
    /// How long the payer has to pay, in seconds (XorPay's default, two hours, when `None`).
    #[xorpay(expire)]
    #[serde(default)]
    pub(crate) lifetime: Option<u32>,
    /// The payer, from XorPay's openid redirect.
    #[xorpay(openid)]
    pub(crate) openid: String,
}

/// Pays by scanning a WeChat QR code.
#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = native, notify_url = from_client)]
pub(crate) struct QrOrder {
    /// The shop's order number.
    #[xorpay(order_id)]
    pub(crate) id: String,
    /// The product name.
    #[xorpay(name)]
    pub(crate) title: String,
    /// The amount.
    #[xorpay(price)]
    pub(crate) price: Price,
    /// The product key, echoed in the notification (unsigned, display only).
    #[xorpay(more)]
    pub(crate) product: String,
    /// How long the payer has to pay, in seconds (XorPay's default, two hours, when `None`).
    #[xorpay(expire)]
    #[serde(default)]
    pub(crate) lifetime: Option<u32>,
}

/// Pays in Alipay's app.
#[derive(XorPayOrder, Serialize, Deserialize, Debug)]
#[xorpay(kind = alipay, notify_url = from_client)]
pub(crate) struct AlipayOrder {
    /// The shop's order number.
    #[xorpay(order_id)]
    pub(crate) id: String,
    /// The product name.
    #[xorpay(name)]
    pub(crate) title: String,
    /// The amount.
    #[xorpay(price)]
    pub(crate) price: Price,
    /// The product key, echoed in the notification (unsigned, display only).
    #[xorpay(more)]
    pub(crate) product: String,
    /// How long the payer has to pay, in seconds (XorPay's default, two hours, when `None`).
    #[xorpay(expire)]
    #[serde(default)]
    pub(crate) lifetime: Option<u32>,
}

impl ShopOrder {
    /// The shop's order number, whatever the kind.
    pub(crate) fn id(&self) -> &str {
        match self {
            ShopOrder::WeChat(order) => &order.id,
            ShopOrder::Qr(order) => &order.id,
            ShopOrder::Alipay(order) => &order.id,
        }
    }

    /// The product name, whatever the kind.
    pub(crate) fn title(&self) -> &str {
        match self {
            ShopOrder::WeChat(order) => &order.title,
            ShopOrder::Qr(order) => &order.title,
            ShopOrder::Alipay(order) => &order.title,
        }
    }

    /// The amount, whatever the kind.
    pub(crate) fn price(&self) -> Price {
        match self {
            ShopOrder::WeChat(order) => order.price,
            ShopOrder::Qr(order) => order.price,
            ShopOrder::Alipay(order) => order.price,
        }
    }
}
