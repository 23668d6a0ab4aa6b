//! What kind of payment a request asks for: the `pay_type` values and the endpoints behind
//! them (docs/protocol.md §2–§4).
//!
//! XorPay's `pay_type` alone does not say where a request goes: the cashier and the mini
//! program both send `pay_type=jsapi`, to different endpoints or with extra parameters.
//! [`RequestKind`] names each way of taking a payment; [`PayType`] and [`BarcodePayType`] are
//! the `pay_type` strings that get signed.

use core::fmt;

/// A `pay_type` of the `/api/pay/{aid}` and `/api/cashier/{aid}` endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayType {
    /// `native`: WeChat scan-to-pay; the answer is a `weixin://wxpay/bizpayurl?pr=…` QR text.
    Native,
    /// `jsapi`: WeChat in-browser payment (公众号支付), also used by the cashier and by mini
    /// programs; the answer is the six `WeixinJSBridge` parameters.
    Jsapi,
    /// `alipay`: Alipay 当面付; the answer is a `https://qr.alipay.com/…` QR text.
    Alipay,
}

impl PayType {
    /// The wire value, e.g. `"native"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            PayType::Native => "native",
            PayType::Jsapi => "jsapi",
            PayType::Alipay => "alipay",
        }
    }
}

impl fmt::Display for PayType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `pay_type` of the barcode endpoint `/api/barcode_pay/{aid}` (付款码, the merchant scans
/// the customer's code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BarcodePayType {
    /// `wechat_barcode`: a WeChat payment code (18 digits starting 10–15).
    WechatBarcode,
    /// `alipay_barcode`: an Alipay payment code.
    AlipayBarcode,
}

impl BarcodePayType {
    /// The wire value, e.g. `"wechat_barcode"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BarcodePayType::WechatBarcode => "wechat_barcode",
            BarcodePayType::AlipayBarcode => "alipay_barcode",
        }
    }
}

impl fmt::Display for BarcodePayType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The XorPay endpoint a request is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `POST /api/pay/{aid}`: answers JSON.
    Pay,
    /// `GET|POST /api/cashier/{aid}`: a page the payer's browser navigates to; answers HTML
    /// on success and JSON only on errors (docs/protocol.md §4.2).
    Cashier,
    /// `POST /api/barcode_pay/{aid}`: answers JSON.
    Barcode,
}

impl Endpoint {
    /// The path without the aid, e.g. `"/api/pay/"`.
    pub const fn path_prefix(self) -> &'static str {
        match self {
            Endpoint::Pay => "/api/pay/",
            Endpoint::Cashier => "/api/cashier/",
            Endpoint::Barcode => "/api/barcode_pay/",
        }
    }
}

/// One way of taking a payment through XorPay: an endpoint plus a `pay_type`, and for the mini
/// program the extra `is_mini=true` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestKind {
    /// WeChat QR code (`/api/pay`, `pay_type=native`).
    Native,
    /// WeChat in-browser payment (`/api/pay`, `pay_type=jsapi`); needs an `openid` obtained
    /// through XorPay's openid endpoint.
    Jsapi,
    /// Alipay QR code (`/api/pay`, `pay_type=alipay`).
    Alipay,
    /// Payment inside the merchant's own mini program (`/api/pay`, `pay_type=jsapi`, plus
    /// `appid`, `openid` and `is_mini=true`; docs/protocol.md §3.5a).
    MiniProgram,
    /// XorPay's cashier page (`/api/cashier`, `pay_type=jsapi`): XorPay obtains the openid
    /// itself (docs/protocol.md §4.2).
    Cashier,
    /// A scanned WeChat payment code (`/api/barcode_pay`, `pay_type=wechat_barcode`).
    WechatBarcode,
    /// A scanned Alipay payment code (`/api/barcode_pay`, `pay_type=alipay_barcode`).
    AlipayBarcode,
}

impl RequestKind {
    /// Every kind, in the order the docs list them.
    pub const ALL: [RequestKind; 7] = [
        RequestKind::Native,
        RequestKind::Jsapi,
        RequestKind::Alipay,
        RequestKind::MiniProgram,
        RequestKind::Cashier,
        RequestKind::WechatBarcode,
        RequestKind::AlipayBarcode,
    ];

    /// The kind's name as `#[xorpay(kind = …)]` spells it, e.g. `"mini_program"`.
    pub const fn keyword(self) -> &'static str {
        match self {
            RequestKind::Native => "native",
            RequestKind::Jsapi => "jsapi",
            RequestKind::Alipay => "alipay",
            RequestKind::MiniProgram => "mini_program",
            RequestKind::Cashier => "cashier",
            RequestKind::WechatBarcode => "wechat_barcode",
            RequestKind::AlipayBarcode => "alipay_barcode",
        }
    }

    /// The endpoint this kind is sent to.
    pub const fn endpoint(self) -> Endpoint {
        match self {
            RequestKind::Native
            | RequestKind::Jsapi
            | RequestKind::Alipay
            | RequestKind::MiniProgram => Endpoint::Pay,
            RequestKind::Cashier => Endpoint::Cashier,
            RequestKind::WechatBarcode | RequestKind::AlipayBarcode => Endpoint::Barcode,
        }
    }

    /// The signature formula of this kind: the protocol names of the signed values in order,
    /// the app secret last (docs/protocol.md §1.3).
    pub const fn signature_fields(self) -> &'static [&'static str] {
        match self.endpoint() {
            Endpoint::Pay | Endpoint::Cashier => &[
                "name",
                "pay_type",
                "price",
                "order_id",
                "notify_url",
                "app_secret",
            ],
            Endpoint::Barcode => &[
                "name",
                "pay_type",
                "price",
                "order_id",
                "notify_url",
                "barcode",
                "app_secret",
            ],
        }
    }

    /// The `pay_type` value that is signed and sent.
    pub const fn pay_type(self) -> &'static str {
        match self {
            RequestKind::Native => PayType::Native.as_str(),
            RequestKind::Jsapi | RequestKind::MiniProgram | RequestKind::Cashier => {
                PayType::Jsapi.as_str()
            }
            RequestKind::Alipay => PayType::Alipay.as_str(),
            RequestKind::WechatBarcode => BarcodePayType::WechatBarcode.as_str(),
            RequestKind::AlipayBarcode => BarcodePayType::AlipayBarcode.as_str(),
        }
    }
}
